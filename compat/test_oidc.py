"""OpenID Connect with a real relying party: authlib completes the authorization code flow with
PKCE against the pool's discovery document, the hosted sign-in form is driven with requests
(CSRF field parsed from the page), and the ID token is verified with authlib's JWT against the
pool's JWKS (signature, iss, aud, exp, nonce, at_hash).
"""

from __future__ import annotations

import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from support import create_user

with warnings.catch_warnings():
    # authlib.jose is authlib's JWT, deprecated in favour of joserfc but still shipped.
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.oidc.core import CodeIDToken

CALLBACK = "https://rp.example.com/callback"
PASSWORD = "Correct-Horse-9"


class _Forms(HTMLParser):
    """The first form's action and its inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""


def _parse_form(html: str) -> _Forms:
    p = _Forms()
    p.feed(html)
    assert p.action, html
    return p


@pytest.fixture
def oidc_app(idp, pool):
    client = idp.create_user_pool_client(
        UserPoolId=pool.id,
        ClientName="rp",
        CallbackURLs=[CALLBACK],
        LogoutURLs=["https://rp.example.com/bye"],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"],
        AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"],
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    create_user(idp, pool.id, "rpuser", email="rpuser@example.com", email_verified="true", name="RP User")
    idp.admin_set_user_password(UserPoolId=pool.id, Username="rpuser", Password=PASSWORD, Permanent=True)
    return pool, client


def _discovery(server, pool_id: str) -> dict:
    r = requests.get(f"{server.endpoint}/{pool_id}/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def _sign_in(server, authorize_url: str, username: str, password: str) -> requests.Response:
    browser = requests.Session()
    r = browser.get(authorize_url, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    login_url = urljoin(server.endpoint, r.headers["Location"])
    page = browser.get(login_url, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    form = _parse_form(page.text)
    data = dict(form.fields)
    assert data.get("_csrf"), form.fields
    data.update(username=username, password=password)
    return browser.post(urljoin(login_url, form.action), data=data, allow_redirects=False, timeout=10)


def test_code_flow_with_pkce_and_id_token_verification(server, oidc_app):
    pool, client = oidc_app
    disc = _discovery(server, pool.id)
    assert disc["issuer"] == f"{server.endpoint}/{pool.id}"
    assert "S256" in disc["code_challenge_methods_supported"]

    rp = OAuth2Session(
        client["ClientId"],
        redirect_uri=CALLBACK,
        scope="openid email profile",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = generate_token(64)
    nonce = generate_token(24)
    url, state = rp.create_authorization_url(disc["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    assert "code_challenge=" in url

    back = _sign_in(server, url, "rpuser", PASSWORD)
    assert back.status_code == 302, back.text
    location = back.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    assert parse_qs(urlparse(location).query)["state"] == [state]

    token = rp.fetch_token(disc["token_endpoint"], authorization_response=location, code_verifier=verifier)
    assert token["token_type"] == "Bearer"
    assert {"access_token", "id_token", "refresh_token"} <= set(token)

    jwks = JsonWebKey.import_key_set(requests.get(disc["jwks_uri"], timeout=10).json())
    claims = JsonWebToken(["RS256"]).decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": disc["issuer"]}},
        claims_params={"nonce": nonce, "client_id": client["ClientId"], "access_token": token["access_token"]},
    )
    claims.validate()  # iss, aud, exp, iat, auth_time, nonce, at_hash
    assert claims["at_hash"]
    assert claims["email"] == "rpuser@example.com"
    assert claims["cognito:username"] == "rpuser"

    # A token signed by someone else is refused by the same verification.
    other = JsonWebKey.generate_key("RSA", 2048, is_private=True)
    forged = JsonWebToken(["RS256"]).encode({"alg": "RS256", "kid": "x"}, dict(claims), other)
    with pytest.raises(Exception):
        JsonWebToken(["RS256"]).decode(forged, jwks).validate()

    info = rp.get(disc["userinfo_endpoint"], timeout=10)
    assert info.status_code == 200, info.text
    assert info.json()["email"] == "rpuser@example.com"
    assert info.json()["sub"] == claims["sub"]

    refreshed = rp.refresh_token(disc["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]

    # The code is single use.
    replay = requests.post(
        disc["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "client_id": client["ClientId"],
            "code": parse_qs(urlparse(location).query)["code"][0],
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"


def test_revocation_through_authlib(server, oidc_app):
    pool, client = oidc_app
    disc = _discovery(server, pool.id)
    rp = OAuth2Session(
        client["ClientId"],
        redirect_uri=CALLBACK,
        scope="openid",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        revocation_endpoint_auth_method="none",
    )
    verifier = generate_token(64)
    url, _ = rp.create_authorization_url(disc["authorization_endpoint"], code_verifier=verifier)
    back = _sign_in(server, url, "rpuser", PASSWORD)
    token = rp.fetch_token(disc["token_endpoint"], authorization_response=back.headers["Location"], code_verifier=verifier)
    r = rp.revoke_token(disc["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token")
    assert r.status_code == 200, r.text
    again = requests.post(
        disc["token_endpoint"],
        data={"grant_type": "refresh_token", "client_id": client["ClientId"], "refresh_token": token["refresh_token"]},
        timeout=10,
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_client_credentials_through_authlib(server, idp, pool):
    idp.create_resource_server(
        UserPoolId=pool.id,
        Identifier="orders",
        Name="Orders",
        Scopes=[{"ScopeName": "read", "ScopeDescription": "Read orders"}],
    )
    client = idp.create_user_pool_client(
        UserPoolId=pool.id,
        ClientName="m2m",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["orders/read"],
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]
    disc = _discovery(server, pool.id)
    for method in ("client_secret_basic", "client_secret_post"):
        m2m = OAuth2Session(client["ClientId"], client["ClientSecret"], token_endpoint_auth_method=method)
        token = m2m.fetch_token(disc["token_endpoint"], grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        assert "refresh_token" not in token
        jwks = JsonWebKey.import_key_set(requests.get(disc["jwks_uri"], timeout=10).json())
        claims = JsonWebToken(["RS256"]).decode(token["access_token"], jwks)
        claims.validate()
        assert claims["client_id"] == client["ClientId"]
        assert claims["scope"] == "orders/read"
    bad = OAuth2Session(client["ClientId"], "wrong-secret", token_endpoint_auth_method="client_secret_basic")
    with pytest.raises(Exception) as e:
        bad.fetch_token(disc["token_endpoint"], grant_type="client_credentials")
    assert "invalid_client" in str(e.value)
