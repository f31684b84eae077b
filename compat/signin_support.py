"""Helpers for the sign-up / sign-in / token / self-service compat tests.

Plain functions (no fixtures): the test modules build their own pools and clients with them.
Everything here encodes Cognito's documented behaviour (../shared/reference/cognito-wire.md
sections 2.5-2.13, 4 and 5), never Portcullis internals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import jwt
import requests
from pycognito.aws_srp import AWSSRP

from support import STRONG_PASSWORD, attr_list, delete_pool_quietly, unique_name

# Every flow a test may want; clients that test enforcement pass their own list.
ALL_FLOWS = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]

ADMIN_SCOPE = "aws.cognito.signin.user.admin"
INCORRECT = "Incorrect username or password."
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=."


@dataclass
class AppClient:
    pool_id: str
    id: str
    secret: str | None
    described: dict

    def secret_hash(self, username: str) -> str | None:
        return None if self.secret is None else secret_hash(username, self.id, self.secret)


@dataclass
class SharedPool:
    id: str
    name: str


@contextmanager
def temporary_pool(idp, label: str, **kwargs: Any) -> Iterator[SharedPool]:
    """A pool that outlives one test (for module-scoped fixtures); deleted afterwards."""
    name = unique_name(label, 50)
    up = idp.create_user_pool(PoolName=name, **kwargs)["UserPool"]
    try:
        yield SharedPool(id=up["Id"], name=name)
    finally:
        delete_pool_quietly(idp, up["Id"])


def make_client(idp, pool_id: str, *, flows: list[str] | None = ALL_FLOWS, secret: bool = False,
                **kwargs: Any) -> AppClient:
    """CreateUserPoolClient. flows=None leaves ExplicitAuthFlows to the server's default."""
    args: dict[str, Any] = {"UserPoolId": pool_id, "ClientName": unique_name("client", 40)}
    if flows is not None:
        args["ExplicitAuthFlows"] = flows
    if secret:
        args["GenerateSecret"] = True
    args.update(kwargs)
    c = idp.create_user_pool_client(**args)["UserPoolClient"]
    return AppClient(pool_id=pool_id, id=c["ClientId"], secret=c.get("ClientSecret"), described=c)


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """Reference 5.3: base64(HMAC-SHA256(key=secret, msg=username + client_id))."""
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def confirmed_user(idp, pool_id: str, username: str, password: str = STRONG_PASSWORD,
                   **attributes: str) -> dict:
    """AdminCreateUser (no message) + AdminSetUserPassword Permanent: a CONFIRMED user.

    Returns AdminGetUser's answer (Username is the canonical one, e.g. the UUID in
    email-as-username pools)."""
    kwargs: dict[str, Any] = {"UserPoolId": pool_id, "Username": username, "MessageAction": "SUPPRESS"}
    if attributes:
        kwargs["UserAttributes"] = attr_list(**attributes)
    idp.admin_create_user(**kwargs)
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    return idp.admin_get_user(UserPoolId=pool_id, Username=username)


def user_status(idp, pool_id: str, username: str) -> str:
    return idp.admin_get_user(UserPoolId=pool_id, Username=username)["UserStatus"]


# ---------------------------------------------------------------------------------------------
# Sign-in
# ---------------------------------------------------------------------------------------------


def password_auth(unsigned_idp, client: AppClient, username: str, password: str = STRONG_PASSWORD) -> dict:
    """InitiateAuth USER_PASSWORD_AUTH (SECRET_HASH added when the client has a secret)."""
    params = {"USERNAME": username, "PASSWORD": password}
    if client.secret:
        params["SECRET_HASH"] = client.secret_hash(username)
    return unsigned_idp.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client.id, AuthParameters=params)


def admin_password_auth(idp, client: AppClient, username: str, password: str = STRONG_PASSWORD,
                        flow: str = "ADMIN_USER_PASSWORD_AUTH") -> dict:
    params = {"USERNAME": username, "PASSWORD": password}
    if client.secret:
        params["SECRET_HASH"] = client.secret_hash(username)
    return idp.admin_initiate_auth(
        UserPoolId=client.pool_id, ClientId=client.id, AuthFlow=flow, AuthParameters=params
    )


def tokens(unsigned_idp, client: AppClient, username: str, password: str = STRONG_PASSWORD) -> dict:
    """The AuthenticationResult of a USER_PASSWORD_AUTH sign-in that must succeed."""
    resp = password_auth(unsigned_idp, client, username, password)
    assert "ChallengeName" not in resp, resp
    return resp["AuthenticationResult"]


def refresh(unsigned_idp, client: AppClient, refresh_token: str, username: str | None = None) -> dict:
    params = {"REFRESH_TOKEN": refresh_token}
    if client.secret:
        assert username is not None, "a client with a secret needs the username for SECRET_HASH"
        params["SECRET_HASH"] = client.secret_hash(username)
    return unsigned_idp.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=client.id, AuthParameters=params)


def srp(unsigned_idp, client: AppClient, username: str, password: str = STRONG_PASSWORD) -> AWSSRP:
    """pycognito's SRP client, talking to the server through unsigned_idp."""
    return AWSSRP(
        username=username,
        password=password,
        pool_id=client.pool_id,
        client_id=client.id,
        client=unsigned_idp,
        client_secret=client.secret,
    )


def srp_start(unsigned_idp, client: AppClient, username: str, password: str = STRONG_PASSWORD,
              **overrides: str) -> tuple[AWSSRP, dict, dict]:
    """InitiateAuth USER_SRP_AUTH. Returns (the SRP client, the AuthParameters sent, the answer)."""
    aws = srp(unsigned_idp, client, username, password)
    params = aws.get_auth_params()
    params.update(overrides)
    resp = unsigned_idp.initiate_auth(AuthFlow="USER_SRP_AUTH", ClientId=client.id, AuthParameters=params)
    return aws, params, resp


def srp_respond(unsigned_idp, client: AppClient, resp: dict, answers: dict, with_session: bool = True) -> dict:
    kwargs: dict[str, Any] = {
        "ClientId": client.id,
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeResponses": answers,
    }
    if with_session and resp.get("Session"):
        kwargs["Session"] = resp["Session"]
    return unsigned_idp.respond_to_auth_challenge(**kwargs)


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def header_of(token: str) -> dict:
    return json.loads(b64url_decode(token.split(".")[0]))


def claims_of(token: str) -> dict:
    """The payload, unverified (for tokens a test will verify separately, or forge)."""
    return json.loads(b64url_decode(token.split(".")[1]))


def issuer(server, pool_id: str) -> str:
    return f"{server.endpoint}/{pool_id}"


def jwks(server, pool_id: str) -> dict:
    r = requests.get(f"{issuer(server, pool_id)}/.well-known/jwks.json", timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return r.json()


def verify(server, pool_id: str, token: str, token_use: str, client_id: str | None = None) -> dict:
    """Verify a token the way a resource server does (PyJWT + the pool's JWKS); returns its claims."""
    header = jwt.get_unverified_header(token)
    keys = [k for k in jwks(server, pool_id)["keys"] if k.get("kid") == header.get("kid")]
    assert len(keys) == 1, f"kid {header.get('kid')!r} not found exactly once in the pool's JWKS"
    key = jwt.PyJWK(keys[0]).key
    options: dict[str, Any] = {"require": ["exp", "iat", "iss", "sub"]}
    kwargs: dict[str, Any] = {}
    if token_use == "id":
        options["require"].append("aud")
        kwargs["audience"] = client_id
    else:
        options["verify_aud"] = False
    claims = jwt.decode(
        token, key, algorithms=["RS256"], issuer=issuer(server, pool_id), options=options, leeway=5, **kwargs
    )
    assert claims["token_use"] == token_use, claims
    return claims


def forge_hs256(token: str, secret: bytes, **header_changes: Any) -> str:
    """Re-sign a token's payload with HS256 under an arbitrary secret (the key-confusion attack)."""
    header = {**header_of(token), "alg": "HS256", **header_changes}
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + token.split(".")[1]
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


def with_payload(token: str, **changes: Any) -> str:
    """The same header and signature over a changed payload."""
    h, _, s = token.split(".")
    payload = {**claims_of(token), **changes}
    return h + "." + b64url(json.dumps(payload, separators=(",", ":")).encode()) + "." + s


def unsigned_token(token: str) -> str:
    """alg: none, payload unchanged, empty signature."""
    header = {**header_of(token), "alg": "none"}
    return b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + token.split(".")[1] + "."


# ---------------------------------------------------------------------------------------------
# Codes from the outbox
# ---------------------------------------------------------------------------------------------


def to(pool_id: str, destination: str):
    """Outbox predicate: messages of a pool sent to a destination."""
    return lambda m: m.get("pool_id") == pool_id and m.get("destination") == destination


def latest_code(outbox, pool_id: str, destination: str, count: int = 1) -> str:
    """The code of the newest message to destination, once at least `count` have arrived."""
    messages = outbox.wait_for(to(pool_id, destination), count=count)
    code = messages[-1].get("code")
    assert code, messages[-1]
    return code


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def wait_until(predicate, timeout: float = 5.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
