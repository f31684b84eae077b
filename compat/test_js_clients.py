"""Node clients against Portcullis: amazon-cognito-identity-js and aws-jwt-verify.

Each test runs one scenario of a node script in compat/js (identity.js, jwt_verify.js) with
`node`, passing endpoint / pool / client / user as JSON in PORTCULLIS_JS_INPUT, and asserts on
the one JSON object the script prints. The scripts only drive the libraries; every expectation
lives here and encodes Cognito's documented behaviour (../shared/reference/cognito-wire.md
sections 1.5, 2.5-2.12, 4.5-4.6 and 5), never Portcullis internals.

Needs node (v20+) and the pinned packages: `npm ci --prefix compat/js --no-audit --no-fund`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from support import (
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    UUID_RE,
    attrs,
    aws_error,
    delete_pool_quietly,
    get_user,
    unique_name,
)

JS_DIR = Path(__file__).resolve().parent / "js"
NODE_TIMEOUT_S = 45
INCORRECT = "Incorrect username or password."
ADMIN_SCOPE = "aws.cognito.signin.user.admin"
FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]


# ---------------------------------------------------------------------------------------------
# Running the node scripts
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    exe = shutil.which("node")
    if not exe:
        pytest.fail("node is not installed (Node.js 20+ is needed for compat/js)", pytrace=False)
    for package in ("amazon-cognito-identity-js", "aws-jwt-verify"):
        if not (JS_DIR / "node_modules" / package / "package.json").exists():
            pytest.fail(
                f"compat/js/node_modules/{package} is missing: run "
                "`npm ci --prefix compat/js --no-audit --no-fund`",
                pytrace=False,
            )
    return exe


def run_node(node: str, script: str, scenario: str, **cfg: Any) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PORTCULLIS_"))}
    env["PORTCULLIS_JS_INPUT"] = json.dumps(cfg)
    env["NODE_NO_WARNINGS"] = "1"
    argv = [node, str(JS_DIR / script), scenario]
    proc = subprocess.run(
        argv, cwd=str(JS_DIR), env=env, capture_output=True, text=True, timeout=NODE_TIMEOUT_S
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        pytest.fail(
            f"`node {script} {scenario}` exited {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return json.loads(lines[-1])


def identity(node: str, scenario: str, app: SimpleNamespace, **cfg: Any) -> dict:
    return run_node(
        node, "identity.js", scenario,
        endpoint=app.endpoint, poolId=app.pool_id, clientId=app.client_id, **cfg,
    )


def operations(result: dict) -> list[str]:
    return [c["operation"] for c in result["calls"]]


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header_of(token: str) -> dict:
    header = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))


def assert_success(result: dict) -> dict:
    assert result["outcome"] == "success", (
        f"expected success, got {result['outcome']}: {result.get('error')!r}; "
        f"calls: {[(c['operation'], c['status']) for c in result.get('calls', [])]}"
    )
    session = result["session"]
    assert session["isValid"] is True
    for key in ("idToken", "accessToken", "refreshToken"):
        assert isinstance(session[key], str) and session[key], key
    return session


def assert_error(error: dict | None, code: str) -> dict:
    assert error is not None, f"expected {code}, got success"
    assert error["code"] == code, f"expected {code}, got {error!r}"
    assert error["name"] == code, error
    return error


# ---------------------------------------------------------------------------------------------
# Pool, clients, users
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(server, idp):
    """One pool (email auto-verified, so SignUp sends a code) and the app clients the tests use:
    `client_id` (SRP + password + refresh, no secret: the JS SDK cannot send SECRET_HASH),
    `other_client_id` (a second audience), `short_client_id` (5-minute ID/access tokens)."""
    pool_id = idp.create_user_pool(
        PoolName=unique_name("js-clients", 40), AutoVerifiedAttributes=["email"]
    )["UserPool"]["Id"]
    try:
        def client(**kwargs: Any) -> str:
            return idp.create_user_pool_client(
                UserPoolId=pool_id, ClientName=unique_name("js", 30), ExplicitAuthFlows=FLOWS, **kwargs
            )["UserPoolClient"]["ClientId"]

        yield SimpleNamespace(
            endpoint=server.endpoint,
            pool_id=pool_id,
            issuer=f"{server.endpoint}/{pool_id}",
            client_id=client(),
            other_client_id=client(),
            short_client_id=client(
                IdTokenValidity=5,
                AccessTokenValidity=5,
                TokenValidityUnits={"IdToken": "minutes", "AccessToken": "minutes"},
            ),
        )
    finally:
        delete_pool_quietly(idp, pool_id)


def email_of(username: str) -> str:
    return f"{username}@example.com"


def confirmed_user(idp, app, label: str, password: str = STRONG_PASSWORD) -> str:
    """AdminCreateUser (SUPPRESS, verified email) + AdminSetUserPassword Permanent: CONFIRMED."""
    username = unique_name(label, 30)
    idp.admin_create_user(
        UserPoolId=app.pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email_of(username)},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    idp.admin_set_user_password(
        UserPoolId=app.pool_id, Username=username, Password=password, Permanent=True
    )
    return username


def password_sign_in(unsigned_idp, client_id: str, username: str, password: str = STRONG_PASSWORD) -> dict:
    return unsigned_idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]


def refresh_with(unsigned_idp, client_id: str, refresh_token: str) -> dict:
    return unsigned_idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )


def assert_session_claims(session: dict, app, username: str, sub: str) -> None:
    """Reference 4.2, 4.3, 4.5: what the SDK and Amplify read from the tokens."""
    i, a = session["idPayload"], session["accessPayload"]
    assert i == claims_of(session["idToken"]) and a == claims_of(session["accessToken"])
    assert i["cognito:username"] == username
    assert i["sub"] == a["sub"] == sub
    assert i["token_use"] == "id" and a["token_use"] == "access"
    assert i["aud"] == app.client_id and "aud" not in a
    assert a["client_id"] == app.client_id
    assert a["username"] == username
    assert i["iss"] == a["iss"] == app.issuer
    assert ADMIN_SCOPE in a["scope"].split(" ")
    assert UUID_RE.match(i["origin_jti"]) and i["origin_jti"] == a["origin_jti"]
    assert i["event_id"] == a["event_id"]
    assert i["email"] == email_of(username) and i["email_verified"] is True
    for claims in (i, a):
        assert claims["exp"] - claims["iat"] == 3600
        assert isinstance(claims["auth_time"], int)


# ---------------------------------------------------------------------------------------------
# amazon-cognito-identity-js
# ---------------------------------------------------------------------------------------------


def test_srp_sign_in(node, idp, app):
    username = confirmed_user(idp, app, "srp")
    sub = attrs(get_user(idp, app.pool_id, username))["sub"]

    result = identity(node, "sign_in", app, username=username, password=STRONG_PASSWORD)

    session = assert_success(result)
    # The SDK's default flow: USER_SRP_AUTH, then the PASSWORD_VERIFIER answer (reference 5).
    assert operations(result) == ["InitiateAuth", "RespondToAuthChallenge"]
    start, answer = result["calls"][0]["request"], result["calls"][1]["request"]
    assert start["AuthFlow"] == "USER_SRP_AUTH"
    assert set(start["AuthParameters"]) >= {"USERNAME", "SRP_A"}
    assert answer["ChallengeName"] == "PASSWORD_VERIFIER"
    assert answer["ChallengeResponses"]["USERNAME"] == username
    assert [c["status"] for c in result["calls"]] == [200, 200]
    assert_session_claims(session, app, username, sub)


def test_srp_wrong_password(node, idp, app):
    username = confirmed_user(idp, app, "srp-wrong")

    result = identity(node, "sign_in", app, username=username, password=OTHER_STRONG_PASSWORD)

    assert result["outcome"] == "failure", result
    error = assert_error(result["error"], "NotAuthorizedException")
    assert error["message"] == INCORRECT
    assert operations(result) == ["InitiateAuth", "RespondToAuthChallenge"]
    assert result["calls"][1]["status"] == 400


def test_new_password_required(node, idp, unsigned_idp, app):
    username = unique_name("force-change", 30)
    idp.admin_create_user(
        UserPoolId=app.pool_id,
        Username=username,
        TemporaryPassword=OTHER_STRONG_PASSWORD,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": email_of(username)}],
    )
    assert get_user(idp, app.pool_id, username)["UserStatus"] == "FORCE_CHANGE_PASSWORD"

    result = identity(
        node, "new_password", app,
        username=username, password=OTHER_STRONG_PASSWORD, newPassword=STRONG_PASSWORD,
    )

    # newPasswordRequired(userAttributes, requiredAttributes): the SDK parses the challenge's
    # JSON-string parameters and strips the `userAttributes.` prefix (reference 2.7).
    challenge = result.get("newPasswordRequired")
    assert challenge is not None, result
    assert challenge["requiredAttributes"] == []
    assert challenge["userAttributes"].get("email") == email_of(username)
    assert all(isinstance(v, str) for v in challenge["userAttributes"].values())
    session = assert_success(result)
    assert operations(result) == ["InitiateAuth", "RespondToAuthChallenge", "RespondToAuthChallenge"]
    final = result["calls"][2]["request"]
    assert final["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert final["ChallengeResponses"]["NEW_PASSWORD"] == STRONG_PASSWORD
    assert session["idPayload"]["cognito:username"] == username
    assert get_user(idp, app.pool_id, username)["UserStatus"] == "CONFIRMED"

    # The new password is the password now, for every flow; the temporary one is gone. The SDK
    # signs in with SRP, so the SRP verifier must follow the password set through the challenge.
    assert password_sign_in(unsigned_idp, app.client_id, username)["IdToken"]
    again = identity(node, "sign_in", app, username=username, password=STRONG_PASSWORD)
    assert_success(again)
    old = identity(node, "sign_in", app, username=username, password=OTHER_STRONG_PASSWORD)
    assert old["outcome"] == "failure", old
    assert_error(old["error"], "NotAuthorizedException")


def test_user_password_auth(node, idp, app):
    username = confirmed_user(idp, app, "plain")
    sub = attrs(get_user(idp, app.pool_id, username))["sub"]

    result = identity(
        node, "sign_in", app, username=username, password=STRONG_PASSWORD, flow="USER_PASSWORD_AUTH"
    )

    session = assert_success(result)
    assert operations(result) == ["InitiateAuth"]
    request = result["calls"][0]["request"]
    assert request["AuthFlow"] == "USER_PASSWORD_AUTH"
    assert request["AuthParameters"] == {"USERNAME": username, "PASSWORD": STRONG_PASSWORD}
    assert_session_claims(session, app, username, sub)


def test_user_password_auth_wrong_password(node, idp, app):
    username = confirmed_user(idp, app, "plain-wrong")

    result = identity(
        node, "sign_in", app,
        username=username, password=OTHER_STRONG_PASSWORD, flow="USER_PASSWORD_AUTH",
    )

    assert result["outcome"] == "failure", result
    assert assert_error(result["error"], "NotAuthorizedException")["message"] == INCORRECT


def test_refresh_session(node, idp, app):
    username = confirmed_user(idp, app, "refresh")

    result = identity(node, "refresh", app, username=username, password=STRONG_PASSWORD)

    first = assert_success(result["signIn"])
    assert result["refresh"]["error"] is None, f"refreshSession failed: {result['refresh']['error']!r}"
    second = result["refresh"]["session"]
    assert second["isValid"] is True
    assert operations(result)[-1] == "InitiateAuth"
    refresh_request = result["calls"][-1]["request"]
    assert refresh_request["AuthFlow"] == "REFRESH_TOKEN_AUTH"
    assert refresh_request["AuthParameters"]["REFRESH_TOKEN"] == first["refreshToken"]
    # Without a remembered device the SDK still sends DEVICE_KEY, as JSON null (it copies
    # whatever its storage holds); real Cognito takes that as "no device key".
    assert refresh_request["AuthParameters"].get("DEVICE_KEY") is None
    # Reference 2.6 / 12.8: new ID and access tokens of the same lineage; no rotation, so the
    # SDK keeps the refresh token it had.
    assert second["refreshToken"] == first["refreshToken"]
    for kind in ("idPayload", "accessPayload"):
        old, new = first[kind], second[kind]
        assert new["origin_jti"] == old["origin_jti"], kind
        assert new["jti"] != old["jti"], kind
        assert new["auth_time"] == old["auth_time"], kind
        assert new["sub"] == old["sub"], kind
    assert second["idPayload"]["cognito:username"] == username
    assert second["idPayload"]["aud"] == app.client_id


def test_get_user_attributes(node, idp, app):
    username = confirmed_user(idp, app, "attrs")
    expected = attrs(get_user(idp, app.pool_id, username))

    result = identity(node, "attributes", app, username=username, password=STRONG_PASSWORD)

    assert_success(result["signIn"])
    assert result["error"] is None, result
    assert operations(result)[-1] == "GetUser"
    got = {a["Name"]: a["Value"] for a in result["attributes"]}
    assert all(isinstance(v, str) for v in got.values()), got
    assert got["sub"] == expected["sub"]
    assert got["email"] == email_of(username)
    assert got["email_verified"] == "true"
    assert got == expected


def test_sign_up_and_confirm_registration(node, idp, app, outbox):
    username = unique_name("signup", 30)
    email = email_of(username)

    signed_up = identity(
        node, "sign_up", app, username=username, password=STRONG_PASSWORD, attributes={"email": email}
    )

    assert signed_up["error"] is None, signed_up
    assert operations(signed_up) == ["SignUp"]
    # The SDK sends ValidationData: null when none is given; the server must take it as absent.
    assert signed_up["calls"][0]["request"]["ValidationData"] is None
    result = signed_up["result"]
    assert result["userConfirmed"] is False
    assert UUID_RE.match(result["userSub"])
    details = result["codeDeliveryDetails"]
    assert details["DeliveryMedium"] == "EMAIL" and details["AttributeName"] == "email"
    user = get_user(idp, app.pool_id, username)
    assert user["UserStatus"] == "UNCONFIRMED"
    assert attrs(user)["sub"] == result["userSub"]

    not_yet = identity(node, "sign_in", app, username=username, password=STRONG_PASSWORD)
    assert not_yet["outcome"] == "failure", not_yet
    assert_error(not_yet["error"], "UserNotConfirmedException")

    messages = outbox.wait_for(
        lambda m: m.get("pool_id") == app.pool_id and m.get("username") == username and m.get("code")
    )
    code = messages[-1]["code"]
    assert messages[-1]["channel"] == "EMAIL" and messages[-1]["destination"] == email

    wrong = identity(node, "confirm_sign_up", app, username=username, code="000000" if code != "000000" else "111111")
    assert_error(wrong["error"], "CodeMismatchException")
    assert get_user(idp, app.pool_id, username)["UserStatus"] == "UNCONFIRMED"

    confirmed = identity(node, "confirm_sign_up", app, username=username, code=code)
    assert confirmed["error"] is None, confirmed
    assert confirmed["result"] == "SUCCESS"
    assert operations(confirmed) == ["ConfirmSignUp"]
    assert confirmed["calls"][0]["request"]["ForceAliasCreation"] is True
    user = get_user(idp, app.pool_id, username)
    assert user["UserStatus"] == "CONFIRMED"
    assert attrs(user)["email_verified"] == "true"

    signed_in = identity(node, "sign_in", app, username=username, password=STRONG_PASSWORD)
    session = assert_success(signed_in)
    assert session["idPayload"]["sub"] == result["userSub"]
    assert session["idPayload"]["email_verified"] is True


def test_global_sign_out_then_refresh_fails(node, idp, unsigned_idp, app):
    username = confirmed_user(idp, app, "global")

    result = identity(node, "global_sign_out", app, username=username, password=STRONG_PASSWORD)

    session = assert_success(result["signIn"])
    assert result["globalSignOut"] == {"error": None, "result": "SUCCESS"}, result["globalSignOut"]
    ops = operations(result)
    assert ops[:3] == ["InitiateAuth", "RespondToAuthChallenge", "GlobalSignOut"]
    assert result["calls"][2]["request"] == {"AccessToken": session["accessToken"]}
    # The SDK's refreshSession retries any failure (jittered back-off) before giving up.
    assert set(ops[3:]) == {"InitiateAuth"}
    assert all(c["status"] == 400 for c in result["calls"][3:])
    assert result["refresh"]["session"] is None
    assert_error(result["refresh"]["error"], "NotAuthorizedException")

    # Reference 2.12: every refresh token of the user is invalid, the access token is refused
    # by the user APIs.
    with aws_error("NotAuthorizedException"):
        refresh_with(unsigned_idp, app.client_id, session["refreshToken"])
    with aws_error("NotAuthorizedException"):
        unsigned_idp.get_user(AccessToken=session["accessToken"])


def test_sign_out_revokes_the_refresh_token(node, idp, unsigned_idp, app):
    username = confirmed_user(idp, app, "signout")
    # Another sign-in of the same user: RevokeToken ends one lineage only, not every session.
    other = password_sign_in(unsigned_idp, app.client_id, username)

    result = identity(node, "sign_out", app, username=username, password=STRONG_PASSWORD)

    session = assert_success(result["signIn"])
    # Reference 2.12 / 4.5: the SDK revokes only when the access token carries origin_jti.
    assert "origin_jti" in session["accessPayload"]
    assert result["signOutError"] is None, result
    assert operations(result) == ["InitiateAuth", "RespondToAuthChallenge", "RevokeToken"]
    revoke = result["calls"][2]
    assert revoke["request"] == {"Token": session["refreshToken"], "ClientId": app.client_id}
    assert revoke["status"] == 200
    assert result["currentUserAfter"] is None

    with aws_error("NotAuthorizedException"):
        refresh_with(unsigned_idp, app.client_id, session["refreshToken"])
    # RevokeToken also revokes the access tokens minted from that refresh token.
    with aws_error("NotAuthorizedException"):
        unsigned_idp.get_user(AccessToken=session["accessToken"])

    # The other lineage is untouched.
    assert refresh_with(unsigned_idp, app.client_id, other["RefreshToken"])["AuthenticationResult"]["IdToken"]
    assert unsigned_idp.get_user(AccessToken=other["AccessToken"])["Username"] == username


# ---------------------------------------------------------------------------------------------
# aws-jwt-verify
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jwt_run(node, idp, unsigned_idp, app):
    """Tokens of the 5-minute client, verified by aws-jwt-verify (one node run, many cases)."""
    username = confirmed_user(idp, app, "jwt")
    tokens = password_sign_in(unsigned_idp, app.short_client_id, username)
    result = run_node(
        node, "jwt_verify.js", "verify",
        endpoint=app.endpoint,
        poolId=app.pool_id,
        clientId=app.short_client_id,
        otherClientId=app.other_client_id,
        idToken=tokens["IdToken"],
        accessToken=tokens["AccessToken"],
    )
    return SimpleNamespace(tokens=tokens, username=username, **result)


def case_error(jwt_run, name: str) -> dict:
    case = jwt_run.cases[name]
    assert case["ok"] is False, f"{name}: expected a failure, the token verified: {case!r}"
    return case["error"]


def test_token_validity_follows_the_client(idp, unsigned_idp, app, jwt_run):
    # Expiry cannot be waited for; check the lifetimes instead (reference 2.4: validity per client).
    for token in (jwt_run.tokens["IdToken"], jwt_run.tokens["AccessToken"]):
        claims = claims_of(token)
        assert claims["exp"] - claims["iat"] == 300
    assert jwt_run.tokens["ExpiresIn"] == 300
    default = password_sign_in(unsigned_idp, app.client_id, jwt_run.username)
    for token in (default["IdToken"], default["AccessToken"]):
        claims = claims_of(token)
        assert claims["exp"] - claims["iat"] == 3600


def test_discovery_and_jwks_for_jwt_verify(app, jwt_run):
    assert jwt_run.issuer == app.issuer
    assert jwt_run.discovery.get("issuer") == app.issuer
    assert jwt_run.discovery.get("jwks_uri") == jwt_run.jwksUri == f"{app.issuer}/.well-known/jwks.json"
    keys = jwt_run.jwks["keys"]
    kids = {k["kid"] for k in keys}
    id_kid = header_of(jwt_run.tokens["IdToken"])["kid"]
    access_kid = header_of(jwt_run.tokens["AccessToken"])["kid"]
    assert {id_kid, access_kid} <= kids
    assert id_kid != access_kid  # reference 4.1: one key for ID tokens, another for access tokens
    # The verifier fetched the JWKS from the configured URI (once: it is cached after that).
    assert jwt_run.jwksFetches == [jwt_run.jwksUri]


def test_jwt_verifier_accepts_our_tokens(app, jwt_run):
    id_case, access_case = jwt_run.cases["id_valid"], jwt_run.cases["access_valid"]
    assert id_case["ok"] is True, id_case
    assert access_case["ok"] is True, access_case
    assert id_case["payload"] == claims_of(jwt_run.tokens["IdToken"])
    assert id_case["payload"]["cognito:username"] == jwt_run.username
    assert access_case["payload"]["client_id"] == app.short_client_id
    # Not yet expired one second before exp, with the verifier's clock moved there.
    assert jwt_run.cases["id_before_exp"]["ok"] is True, jwt_run.cases["id_before_exp"]
    assert jwt_run.cases["access_before_exp"]["ok"] is True, jwt_run.cases["access_before_exp"]


def test_jwt_verifier_rejects_the_wrong_audience(jwt_run):
    assert case_error(jwt_run, "id_wrong_audience")["type"] == "JwtInvalidAudienceError"
    wrong_client = case_error(jwt_run, "access_wrong_client_id")
    assert "client_id" in wrong_client["message"], wrong_client
    # An access token has no aud, so an ID-token verifier refuses it; and the reverse fails on
    # token_use.
    assert case_error(jwt_run, "access_token_as_id")["type"] == "JwtInvalidAudienceError"
    assert "token_use" in case_error(jwt_run, "id_token_as_access")["message"]


@pytest.mark.parametrize(
    "case", ["id_tampered_exp", "access_tampered_exp", "id_tampered_signature", "id_tampered_sub"]
)
def test_jwt_verifier_rejects_tampered_tokens(jwt_run, case):
    assert case_error(jwt_run, case)["type"] == "JwtInvalidSignatureError"


def test_jwt_verifier_rejects_expired_tokens(jwt_run):
    # The verifier's clock moved one second past exp (genuine tokens, nothing re-signed).
    assert case_error(jwt_run, "id_after_exp")["type"] == "JwtExpiredError"
    assert case_error(jwt_run, "access_after_exp")["type"] == "JwtExpiredError"


def test_default_jwks_fetcher_needs_https(jwt_run):
    # aws-jwt-verify's default Node fetcher is node:https, so a plain-http public URL needs a
    # custom fetcher or cacheJwks (what the README must say for local setups). Not a server fault.
    error = case_error(jwt_run, "default_fetcher_http")
    assert "http:" in (error["message"] or ""), error


@pytest.mark.parametrize("case", ["cognito_verifier_id", "cognito_verifier_access"])
def test_cognito_jwt_verifier_refuses_our_issuer(app, jwt_run, case):
    # CognitoJwtVerifier derives the issuer from AWS's hostname
    # (https://cognito-idp.<region>.amazonaws.com/<poolId>, or issuer-cognito-idp.<region>...) and
    # cannot be given ours, so even with our JWKS preloaded through cacheJwks it refuses our
    # tokens on the issuer (aws-jwt-verify 5.2.1: "issuer not configured: <our iss>", raised
    # before any key lookup; older versions raised JwtInvalidIssuerError). Hence the README must
    # tell users to use JwtVerifier with our issuer and JWKS URI.
    error = case_error(jwt_run, case)
    assert error["type"] in {"ParameterValidationError", "JwtInvalidIssuerError"}, error
    assert "issuer" in error["message"].lower(), error
    assert app.issuer in error["message"], error
