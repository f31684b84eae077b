"""ID, access and refresh tokens (reference 2.6, 2.14, 3, 4): verified the way a resource server
does it (PyJWT against the pool's JWKS), and forged in the usual ways to check GetUser refuses them.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from signin_support import (
    ADMIN_SCOPE,
    admin_password_auth,
    b64url_decode,
    claims_of,
    confirmed_user,
    forge_hs256,
    header_of,
    issuer,
    jwks,
    make_client,
    refresh,
    temporary_pool,
    tokens,
    unsigned_token,
    verify,
    with_payload,
)
from support import UUID_RE, attrs, aws_error

ROLE_ADMINS = "arn:aws:iam::123456789012:role/admins"
ROLE_STAFF = "arn:aws:iam::123456789012:role/staff"
ROLE_TIE_A = "arn:aws:iam::123456789012:role/tie-a"
ROLE_TIE_B = "arn:aws:iam::123456789012:role/tie-b"
TOKEN_RE = re.compile(r"^[A-Za-z0-9\-_=.]+$")


@pytest.fixture(scope="module")
def tp(idp):
    """A pool with a custom attribute, groups with roles, users and clients."""
    schema = [{"Name": "tier", "AttributeDataType": "String", "Mutable": True}]
    with temporary_pool(idp, "tokens", Schema=schema) as p:
        for name, role, precedence in [
            ("admins", ROLE_ADMINS, 1), ("staff", ROLE_STAFF, 5), ("plain", None, None),
            ("tie-a", ROLE_TIE_A, 3), ("tie-b", ROLE_TIE_B, 3),
        ]:
            kwargs = {"UserPoolId": p.id, "GroupName": name}
            if role:
                kwargs["RoleArn"] = role
            if precedence is not None:
                kwargs["Precedence"] = precedence
            idp.create_group(**kwargs)
        tina = confirmed_user(
            idp, p.id, "tina", email="tina@example.com", email_verified="true", given_name="Tina",
            custom__tier="gold",
        )
        for g in ("admins", "staff", "plain"):
            idp.admin_add_user_to_group(UserPoolId=p.id, Username="tina", GroupName=g)
        solo = confirmed_user(idp, p.id, "solo", email="solo@example.com", email_verified="false")
        confirmed_user(idp, p.id, "tied")
        for g in ("tie-a", "tie-b"):
            idp.admin_add_user_to_group(UserPoolId=p.id, Username="tied", GroupName=g)
        yield SimpleNamespace(
            id=p.id,
            client=make_client(idp, p.id),
            other_client=make_client(idp, p.id),
            secret=make_client(idp, p.id, secret=True),
            tina_sub=attrs(tina)["sub"],
            solo_sub=attrs(solo)["sub"],
        )


@pytest.fixture(scope="module")
def tina(unsigned_idp, tp):
    """One sign-in of tina, shared by the read-only token tests."""
    return tokens(unsigned_idp, tp.client, "tina")


# ---------------------------------------------------------------------------------------------
# Keys and discovery
# ---------------------------------------------------------------------------------------------


def test_jwt_header(server, tp, tina):
    kids = {k["kid"] for k in jwks(server, tp.id)["keys"]}
    for token in (tina["IdToken"], tina["AccessToken"]):
        header = header_of(token)
        assert set(header) == {"kid", "alg"}, header
        assert header["alg"] == "RS256"
        assert header["kid"] in kids


def test_id_and_access_tokens_use_different_keys(tina):
    assert header_of(tina["IdToken"])["kid"] != header_of(tina["AccessToken"])["kid"]


def test_jwks_document(server, tp):
    r = requests.get(f"{issuer(server, tp.id)}/.well-known/jwks.json", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    keys = r.json()["keys"]
    assert len(keys) >= 2
    assert len({k["kid"] for k in keys}) == len(keys)
    for k in keys:
        assert k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" and k["e"] == "AQAB", k
        assert len(b64url_decode(k["n"])) == 256, "RSA-2048 modulus"
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(k), "private key material in the JWKS"


def test_each_pool_has_its_own_keys(server, tp, make_pool):
    other = make_pool()
    mine = {k["kid"] for k in jwks(server, tp.id)["keys"]}
    theirs = {k["kid"] for k in jwks(server, other.id)["keys"]}
    assert mine and theirs and not mine & theirs


def test_jwks_of_an_unknown_pool(server):
    r = requests.get(f"{server.endpoint}/us-east-1_nOsUcHp0L/.well-known/jwks.json", timeout=10)
    assert r.status_code in (400, 404)


def test_discovery_document(server, tp):
    iss = issuer(server, tp.id)
    r = requests.get(f"{iss}/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 200
    doc = r.json()
    assert doc["issuer"] == iss
    assert doc["jwks_uri"] == f"{iss}/.well-known/jwks.json"
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    assert doc["subject_types_supported"] == ["public"]


# ---------------------------------------------------------------------------------------------
# Claims
# ---------------------------------------------------------------------------------------------


def test_authentication_result(tina):
    assert tina["TokenType"] == "Bearer"
    assert tina["ExpiresIn"] == 3600
    for key in ("AccessToken", "IdToken", "RefreshToken"):
        assert TOKEN_RE.match(tina[key]), f"{key} has characters outside [A-Za-z0-9-_=.]"


def test_id_token_claims(server, tp, tina):
    c = verify(server, tp.id, tina["IdToken"], "id", tp.client.id)
    now = time.time()
    assert c["sub"] == tp.tina_sub
    assert c["aud"] == tp.client.id
    assert c["iss"] == issuer(server, tp.id)
    assert c["cognito:username"] == "tina"
    assert c["email"] == "tina@example.com"
    assert c["email_verified"] is True
    assert c["given_name"] == "Tina"
    assert c["custom:tier"] == "gold"
    for claim in ("auth_time", "iat", "exp"):
        assert isinstance(c[claim], int), claim
    assert c["auth_time"] <= c["iat"] <= now + 5
    assert c["iat"] >= now - 120
    assert c["exp"] - c["iat"] == 3600
    for claim in ("jti", "origin_jti", "event_id"):
        assert UUID_RE.match(c[claim]), (claim, c[claim])
    assert "scope" not in c and "client_id" not in c


def test_access_token_claims(server, tp, tina):
    a = verify(server, tp.id, tina["AccessToken"], "access")
    i = claims_of(tina["IdToken"])
    assert "aud" not in a
    assert a["client_id"] == tp.client.id
    assert a["iss"] == issuer(server, tp.id)
    assert a["sub"] == tp.tina_sub
    assert a["username"] == "tina"
    assert a["scope"] == ADMIN_SCOPE
    assert UUID_RE.match(a["jti"]) and a["jti"] != i["jti"]
    assert a["origin_jti"] == i["origin_jti"]
    assert a["event_id"] == i["event_id"]
    assert a["auth_time"] == i["auth_time"]
    assert a["exp"] - a["iat"] == 3600
    assert "email" not in a


def test_each_sign_in_starts_a_new_lineage(unsigned_idp, tp, tina):
    again = tokens(unsigned_idp, tp.client, "tina")
    first, second = claims_of(tina["AccessToken"]), claims_of(again["AccessToken"])
    assert first["origin_jti"] != second["origin_jti"]
    assert first["event_id"] != second["event_id"]
    assert again["RefreshToken"] != tina["RefreshToken"]


def test_groups_and_roles(server, tp, tina):
    i = verify(server, tp.id, tina["IdToken"], "id", tp.client.id)
    a = verify(server, tp.id, tina["AccessToken"], "access")
    assert set(i["cognito:groups"]) == {"admins", "staff", "plain"}
    assert set(a["cognito:groups"]) == {"admins", "staff", "plain"}
    assert set(i["cognito:roles"]) == {ROLE_ADMINS, ROLE_STAFF}
    # The lowest Precedence wins.
    assert i["cognito:preferred_role"] == ROLE_ADMINS


def test_no_groups_no_group_claims(server, unsigned_idp, tp):
    t = tokens(unsigned_idp, tp.client, "solo")
    i = verify(server, tp.id, t["IdToken"], "id", tp.client.id)
    a = verify(server, tp.id, t["AccessToken"], "access")
    for claims in (i, a):
        assert not {"cognito:groups", "cognito:roles", "cognito:preferred_role"} & set(claims)
    assert i["email_verified"] is False
    assert i["sub"] == tp.solo_sub


def test_preferred_role_tie(server, unsigned_idp, tp):
    t = tokens(unsigned_idp, tp.client, "tied")
    i = verify(server, tp.id, t["IdToken"], "id", tp.client.id)
    assert set(i["cognito:groups"]) == {"tie-a", "tie-b"}
    assert set(i["cognito:roles"]) == {ROLE_TIE_A, ROLE_TIE_B}
    # Same precedence, different roles: no preferred role.
    assert "cognito:preferred_role" not in i


VALIDITY = {
    "minutes": ({"AccessTokenValidity": 30, "IdTokenValidity": 10,
                 "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes"}}, 1800, 600),
    "default-units-hours": ({"AccessTokenValidity": 2, "IdTokenValidity": 5}, 7200, 18000),
    "seconds": ({"AccessTokenValidity": 900, "IdTokenValidity": 86400,
                 "TokenValidityUnits": {"AccessToken": "seconds", "IdToken": "seconds"}}, 900, 86400),
}


@pytest.mark.parametrize("case", sorted(VALIDITY))
def test_token_validity_follows_the_client(server, idp, unsigned_idp, tp, case):
    settings, access_s, id_s = VALIDITY[case]
    client = make_client(idp, tp.id, **settings)
    t = tokens(unsigned_idp, client, "solo")
    assert t["ExpiresIn"] == access_s
    a = verify(server, tp.id, t["AccessToken"], "access")
    i = verify(server, tp.id, t["IdToken"], "id", client.id)
    assert a["exp"] - a["iat"] == access_s
    assert i["exp"] - i["iat"] == id_s


def test_admin_sign_in_tokens(server, idp, tp):
    t = admin_password_auth(idp, tp.client, "solo")["AuthenticationResult"]
    assert verify(server, tp.id, t["AccessToken"], "access")["client_id"] == tp.client.id
    assert verify(server, tp.id, t["IdToken"], "id", tp.client.id)["cognito:username"] == "solo"


# ---------------------------------------------------------------------------------------------
# Refresh
# ---------------------------------------------------------------------------------------------


def test_refresh_token_auth(server, unsigned_idp, tp):
    first = tokens(unsigned_idp, tp.client, "tina")
    time.sleep(1.05)  # so that a new iat is distinguishable from auth_time
    for flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
        resp = unsigned_idp.initiate_auth(
            AuthFlow=flow, ClientId=tp.client.id, AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]}
        )
        result = resp["AuthenticationResult"]
        assert "RefreshToken" not in result, "no new refresh token without rotation"
        assert result["ExpiresIn"] == 3600 and result["TokenType"] == "Bearer"
        old_a, old_i = claims_of(first["AccessToken"]), claims_of(first["IdToken"])
        a = verify(server, tp.id, result["AccessToken"], "access")
        i = verify(server, tp.id, result["IdToken"], "id", tp.client.id)
        assert a["jti"] != old_a["jti"] and i["jti"] != old_i["jti"]
        assert a["origin_jti"] == i["origin_jti"] == old_a["origin_jti"]
        assert a["auth_time"] == i["auth_time"] == old_a["auth_time"]
        assert a["iat"] > old_a["auth_time"]
        assert a["event_id"] == i["event_id"]
        assert i["cognito:username"] == "tina" and set(i["cognito:groups"]) == {"admins", "staff", "plain"}
        assert unsigned_idp.get_user(AccessToken=result["AccessToken"])["Username"] == "tina"


def test_admin_refresh(server, idp, unsigned_idp, tp):
    t = tokens(unsigned_idp, tp.client, "solo")
    result = idp.admin_initiate_auth(
        UserPoolId=tp.id, ClientId=tp.client.id, AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": t["RefreshToken"]},
    )["AuthenticationResult"]
    assert "RefreshToken" not in result
    a = verify(server, tp.id, result["AccessToken"], "access")
    assert a["origin_jti"] == claims_of(t["AccessToken"])["origin_jti"]


def test_refresh_with_a_client_secret(unsigned_idp, tp):
    t = tokens(unsigned_idp, tp.secret, "solo")
    with aws_error("NotAuthorizedException"):
        unsigned_idp.initiate_auth(
            AuthFlow="REFRESH_TOKEN_AUTH", ClientId=tp.secret.id,
            AuthParameters={"REFRESH_TOKEN": t["RefreshToken"]},
        )
    result = refresh(unsigned_idp, tp.secret, t["RefreshToken"], username="solo")["AuthenticationResult"]
    assert claims_of(result["AccessToken"])["client_id"] == tp.secret.id


def test_refresh_token_is_bound_to_its_client(unsigned_idp, tp, tina):
    with aws_error("NotAuthorizedException"):
        refresh(unsigned_idp, tp.other_client, tina["RefreshToken"])
    # Still good with its own client.
    assert "AccessToken" in refresh(unsigned_idp, tp.client, tina["RefreshToken"])["AuthenticationResult"]


@pytest.mark.parametrize("token", ["not-a-refresh-token", "a.b.c.d.e", "x" * 500])
def test_garbage_refresh_token(unsigned_idp, tp, token):
    with aws_error("NotAuthorizedException"):
        refresh(unsigned_idp, tp.client, token)


# ---------------------------------------------------------------------------------------------
# Forged and misused tokens are refused by GetUser
# ---------------------------------------------------------------------------------------------


def public_key_pem(server, pool_id: str, kid: str) -> bytes:
    [k] = [k for k in jwks(server, pool_id)["keys"] if k["kid"] == kid]
    return jwt.PyJWK(k).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


_ATTACKER: list = []


def attacker_key():
    if not _ATTACKER:
        _ATTACKER.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _ATTACKER[0]


def forgeries(server, tp, tina) -> dict[str, str]:
    access = tina["AccessToken"]
    kid = header_of(access)["kid"]
    claims = claims_of(access)
    attacker = attacker_key()
    pem = public_key_pem(server, tp.id, kid)
    return {
        "payload-altered": with_payload(access, username="solo", sub=tp.solo_sub),
        "expiry-extended": with_payload(access, exp=claims["exp"] + 86400),
        "alg-none": unsigned_token(access),
        "hs256-public-key-pem": forge_hs256(access, pem),
        "hs256-public-key-pem-stripped": forge_hs256(access, pem.strip()),
        "rs256-attacker-key": jwt.encode(claims, attacker, algorithm="RS256", headers={"kid": kid}),
        "signature-dropped": access.rsplit(".", 1)[0] + ".",
        "id-token-as-access-token": tina["IdToken"],
        "refresh-token-as-access-token": tina["RefreshToken"],
    }


FORGERY_KINDS = [
    "payload-altered", "expiry-extended", "alg-none", "hs256-public-key-pem",
    "hs256-public-key-pem-stripped", "rs256-attacker-key", "signature-dropped",
    "id-token-as-access-token", "refresh-token-as-access-token",
]


def test_genuine_access_token_is_accepted(unsigned_idp, tina):
    user = unsigned_idp.get_user(AccessToken=tina["AccessToken"])
    assert user["Username"] == "tina"


@pytest.mark.parametrize("kind", FORGERY_KINDS)
def test_forged_token_is_refused(server, idp, unsigned_idp, tp, tina, kind):
    forged = forgeries(server, tp, tina)[kind]
    with aws_error("NotAuthorizedException"):
        unsigned_idp.get_user(AccessToken=forged)
    # Nothing about the users changed either.
    assert attrs(idp.admin_get_user(UserPoolId=tp.id, Username="solo"))["sub"] == tp.solo_sub


def test_token_from_another_pool(server, idp, unsigned_idp, tp, tina, make_pool):
    other = make_pool()
    client = make_client(idp, other.id)
    confirmed_user(idp, other.id, "tina")
    theirs = tokens(unsigned_idp, client, "tina")
    # Valid in its own pool: GetUser answers with that pool's user.
    assert unsigned_idp.get_user(AccessToken=theirs["AccessToken"])["Username"] == "tina"
    # Relabelled as ours (iss and client of our pool), it carries the other pool's signature.
    relabelled = with_payload(
        theirs["AccessToken"], iss=issuer(server, tp.id), client_id=tp.client.id, sub=tp.tina_sub
    )
    with aws_error("NotAuthorizedException"):
        unsigned_idp.get_user(AccessToken=relabelled)
    # Our own header (kid) with their payload and signature.
    spliced = tina["AccessToken"].split(".")[0] + "." + ".".join(theirs["AccessToken"].split(".")[1:])
    with aws_error("NotAuthorizedException"):
        unsigned_idp.get_user(AccessToken=spliced)
    # Their refresh token means nothing to our client.
    with aws_error("NotAuthorizedException"):
        refresh(unsigned_idp, tp.client, theirs["RefreshToken"])
    # Once their pool is gone, so is the token.
    idp.delete_user_pool(UserPoolId=other.id)
    with aws_error("NotAuthorizedException"):
        unsigned_idp.get_user(AccessToken=theirs["AccessToken"])
