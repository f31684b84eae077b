"""Sign-in: InitiateAuth / AdminInitiateAuth / RespondToAuthChallenge (reference 2.6, 2.7, 5, 11.5, 11.6).

Password flows through boto3; USER_SRP_AUTH through pycognito's AWSSRP (the client math, so the
server's SRP is checked against an independent implementation). Every refusal also checks the
user's state afterwards.
"""

from __future__ import annotations

import base64
import json
import time
from types import SimpleNamespace

import pytest
from pycognito.aws_srp import N_HEX, pad_hex

from signin_support import (
    INCORRECT,
    admin_password_auth,
    claims_of,
    confirmed_user,
    latest_code,
    make_client,
    password_auth,
    srp,
    srp_respond,
    srp_start,
    temporary_pool,
    user_status,
)
from support import (
    MISSING_CLIENT_ID,
    NOT_FOUND_STATUSES,
    OTHER_STRONG_PASSWORD,
    STRONG_PASSWORD,
    UUID_RE,
    attrs,
    aws_error,
    get_user,
)


@pytest.fixture(scope="module")
def main(idp):
    """A LEGACY-mode pool with email as a sign-in alias, and the clients the tests need."""
    with temporary_pool(idp, "signin", AliasAttributes=["email"]) as p:
        yield SimpleNamespace(
            id=p.id,
            client=make_client(idp, p.id),
            enabled=make_client(idp, p.id, PreventUserExistenceErrors="ENABLED"),
            secret=make_client(idp, p.id, secret=True),
            default_flows=make_client(idp, p.id, flows=None),
            password_only=make_client(
                idp, p.id, flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
            ),
        )


def message(excinfo) -> str:
    return excinfo.value.response["Error"]["Message"]


def assert_tokens(resp: dict) -> dict:
    assert "ChallengeName" not in resp, resp
    result = resp["AuthenticationResult"]
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == 3600
    for key in ("AccessToken", "IdToken", "RefreshToken"):
        assert isinstance(result.get(key), str) and result[key], key
    return result


# ---------------------------------------------------------------------------------------------
# Password flows
# ---------------------------------------------------------------------------------------------


def test_user_password_auth(idp, unsigned_idp, main):
    sub = attrs(confirmed_user(idp, main.id, "pat"))["sub"]
    result = assert_tokens(password_auth(unsigned_idp, main.client, "pat"))
    id_claims = claims_of(result["IdToken"])
    assert id_claims["cognito:username"] == "pat"
    assert id_claims["sub"] == sub


def test_admin_user_password_auth(idp, main):
    confirmed_user(idp, main.id, "adele")
    result = assert_tokens(admin_password_auth(idp, main.client, "adele"))
    assert claims_of(result["AccessToken"])["username"] == "adele"


def test_admin_no_srp_auth_on_a_legacy_client(idp, main):
    confirmed_user(idp, main.id, "legacy")
    client = make_client(idp, main.id, flows=["ADMIN_NO_SRP_AUTH"])
    assert_tokens(admin_password_auth(idp, client, "legacy", flow="ADMIN_NO_SRP_AUTH"))
    # USER_PASSWORD_AUTH is not among that client's flows.
    with aws_error("InvalidParameterException"):
        password_auth(idp, client, "legacy")


def test_legacy_user_password_auth_flow(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "legacyuser")
    client = make_client(idp, main.id, flows=["USER_PASSWORD_AUTH"])
    assert_tokens(password_auth(unsigned_idp, client, "legacyuser"))


def test_wrong_password(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "wendy")
    with aws_error("NotAuthorizedException") as e:
        password_auth(unsigned_idp, main.client, "wendy", OTHER_STRONG_PASSWORD)
    assert message(e) == INCORRECT
    with aws_error("NotAuthorizedException") as e:
        admin_password_auth(idp, main.client, "wendy", OTHER_STRONG_PASSWORD)
    assert message(e) == INCORRECT
    assert user_status(idp, main.id, "wendy") == "CONFIRMED"
    assert_tokens(password_auth(unsigned_idp, main.client, "wendy"))


def test_unknown_client(unsigned_idp):
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        unsigned_idp.initiate_auth(
            AuthFlow="USER_PASSWORD_AUTH", ClientId=MISSING_CLIENT_ID,
            AuthParameters={"USERNAME": "x", "PASSWORD": STRONG_PASSWORD},
        )


def test_secret_hash(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "sean")
    client = main.secret
    base = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client.id}
    with aws_error("NotAuthorizedException") as e:
        unsigned_idp.initiate_auth(**base, AuthParameters={"USERNAME": "sean", "PASSWORD": STRONG_PASSWORD})
    assert "SECRET_HASH" in message(e)
    with aws_error("NotAuthorizedException") as e:
        unsigned_idp.initiate_auth(**base, AuthParameters={
            "USERNAME": "sean", "PASSWORD": STRONG_PASSWORD, "SECRET_HASH": client.secret_hash("someone"),
        })
    assert "secret hash" in message(e).lower()
    with aws_error("NotAuthorizedException"):
        idp.admin_initiate_auth(
            UserPoolId=main.id, ClientId=client.id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "sean", "PASSWORD": STRONG_PASSWORD},
        )
    assert user_status(idp, main.id, "sean") == "CONFIRMED"
    assert_tokens(password_auth(unsigned_idp, client, "sean"))
    assert_tokens(admin_password_auth(idp, client, "sean"))


# ---------------------------------------------------------------------------------------------
# Flow enforcement
# ---------------------------------------------------------------------------------------------


def test_flow_not_enabled_for_the_client(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "flo")
    with aws_error("InvalidParameterException"):
        password_auth(unsigned_idp, main.default_flows, "flo")
    with aws_error("InvalidParameterException"):
        admin_password_auth(idp, main.default_flows, "flo")
    with aws_error("InvalidParameterException"):
        admin_password_auth(idp, main.password_only, "flo")
    with aws_error("InvalidParameterException"):
        srp_start(unsigned_idp, main.password_only, "flo")
    # The default flows do include SRP.
    assert "AuthenticationResult" in srp(unsigned_idp, main.default_flows, "flo").authenticate_user()


@pytest.mark.parametrize("flow", ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"])
def test_admin_flow_on_initiate_auth(idp, unsigned_idp, main, flow):
    name = f"wrongop-{flow.lower()}"
    confirmed_user(idp, main.id, name)
    with aws_error("InvalidParameterException"):
        unsigned_idp.initiate_auth(
            AuthFlow=flow, ClientId=main.client.id,
            AuthParameters={"USERNAME": name, "PASSWORD": STRONG_PASSWORD},
        )
    assert user_status(idp, main.id, name) == "CONFIRMED"


def test_user_password_flow_on_admin_initiate_auth(idp, main):
    confirmed_user(idp, main.id, "wrongop-user")
    with aws_error("InvalidParameterException"):
        idp.admin_initiate_auth(
            UserPoolId=main.id, ClientId=main.client.id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "wrongop-user", "PASSWORD": STRONG_PASSWORD},
        )
    assert user_status(idp, main.id, "wrongop-user") == "CONFIRMED"


# ---------------------------------------------------------------------------------------------
# USER_SRP_AUTH
# ---------------------------------------------------------------------------------------------


def test_srp_challenge(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "sam")
    aws, params, resp = srp_start(unsigned_idp, main.client, "sam")
    assert resp["ChallengeName"] == "PASSWORD_VERIFIER"
    assert 20 <= len(resp["Session"]) <= 2048
    cp = resp["ChallengeParameters"]
    assert {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"} <= set(cp)
    assert cp["USERNAME"] == cp["USER_ID_FOR_SRP"] == "sam"
    salt = int(cp["SALT"], 16)
    assert cp["SALT"] == pad_hex(salt), "SALT must be sent in canonical padHex form"
    b = int(cp["SRP_B"], 16)
    assert 0 < b < int(N_HEX, 16)
    assert base64.b64decode(cp["SECRET_BLOCK"], validate=True)

    answers = aws.process_challenge(cp, params)
    assert_tokens(srp_respond(unsigned_idp, main.client, resp, answers))


def test_srp_with_pycognito(idp, unsigned_idp, main):
    """pycognito's authenticate_user answers PASSWORD_VERIFIER without the Session."""
    confirmed_user(idp, main.id, "pyco")
    result = assert_tokens(srp(unsigned_idp, main.client, "pyco").authenticate_user())
    assert claims_of(result["IdToken"])["cognito:username"] == "pyco"


def test_srp_with_a_client_secret(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "sid")
    assert_tokens(srp(unsigned_idp, main.secret, "sid").authenticate_user())
    # Without SECRET_HASH the flow does not even start.
    with aws_error("NotAuthorizedException"):
        unsigned_idp.initiate_auth(
            AuthFlow="USER_SRP_AUTH", ClientId=main.secret.id,
            AuthParameters={"USERNAME": "sid", "SRP_A": "%x" % srp(unsigned_idp, main.secret, "sid").large_a_value},
        )
    # Nor is the challenge answered without it.
    aws, params, resp = srp_start(unsigned_idp, main.secret, "sid")
    answers = aws.process_challenge(resp["ChallengeParameters"], params)
    del answers["SECRET_HASH"]
    with aws_error("NotAuthorizedException"):
        srp_respond(unsigned_idp, main.secret, resp, answers)
    assert user_status(idp, main.id, "sid") == "CONFIRMED"


def test_srp_challenge_is_bound_to_its_client(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "bound")
    aws, params, resp = srp_start(unsigned_idp, main.client, "bound")
    answers = aws.process_challenge(resp["ChallengeParameters"], params)
    with aws_error(("NotAuthorizedException", "InvalidParameterException")):
        srp_respond(unsigned_idp, main.enabled, resp, answers)
    assert user_status(idp, main.id, "bound") == "CONFIRMED"


def test_srp_wrong_password(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "sabine")
    with aws_error("NotAuthorizedException") as e:
        srp(unsigned_idp, main.client, "sabine", OTHER_STRONG_PASSWORD).authenticate_user()
    assert message(e) == INCORRECT
    assert user_status(idp, main.id, "sabine") == "CONFIRMED"


def test_srp_session_is_single_use(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "once")
    aws, params, resp = srp_start(unsigned_idp, main.client, "once")
    answers = aws.process_challenge(resp["ChallengeParameters"], params)
    assert_tokens(srp_respond(unsigned_idp, main.client, resp, answers))
    with aws_error("NotAuthorizedException"):
        srp_respond(unsigned_idp, main.client, resp, answers)
    with aws_error("NotAuthorizedException"):
        srp_respond(unsigned_idp, main.client, resp, answers, with_session=False)


def test_srp_tampered_secret_block(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "tamper")
    aws, params, resp = srp_start(unsigned_idp, main.client, "tamper")
    cp = dict(resp["ChallengeParameters"])
    block = bytearray(base64.b64decode(cp["SECRET_BLOCK"]))
    block[len(block) // 2] ^= 0x01
    cp["SECRET_BLOCK"] = base64.b64encode(bytes(block)).decode()
    # A signature that is right for the tampered block: only the server's own check can refuse it.
    answers = aws.process_challenge(cp, params)
    with aws_error("NotAuthorizedException"):
        srp_respond(unsigned_idp, main.client, resp, answers)
    assert user_status(idp, main.id, "tamper") == "CONFIRMED"


def test_srp_claim_for_another_user(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "claimer")
    confirmed_user(idp, main.id, "victim")
    aws, params, resp = srp_start(unsigned_idp, main.client, "claimer")
    answers = aws.process_challenge(resp["ChallengeParameters"], params)
    answers["USERNAME"] = "victim"
    with aws_error(("NotAuthorizedException", "InvalidParameterException")):
        srp_respond(unsigned_idp, main.client, resp, answers)


MALFORMED_A = {"non-hex": "not-hex!", "empty": "", "zero": "0", "N": N_HEX, "N-times-256": N_HEX + "00"}


@pytest.fixture(scope="module")
def srp_target(idp, main):
    return confirmed_user(idp, main.id, "malformed-a")["Username"]


@pytest.mark.parametrize("case", sorted(MALFORMED_A))
def test_srp_malformed_a(idp, lax_idp, main, srp_target, case):
    """A mod N == 0 (or no number at all) must be refused: a 400, never a 500 or a challenge."""
    with aws_error(("InvalidParameterException", "NotAuthorizedException")):
        lax_idp.initiate_auth(
            AuthFlow="USER_SRP_AUTH", ClientId=main.client.id,
            AuthParameters={"USERNAME": srp_target, "SRP_A": MALFORMED_A[case]},
        )
    assert user_status(idp, main.id, srp_target) == "CONFIRMED"


# ---------------------------------------------------------------------------------------------
# User existence, state and lockout
# ---------------------------------------------------------------------------------------------


def test_unknown_user_legacy(unsigned_idp, idp, main):
    with aws_error("UserNotFoundException"):
        password_auth(unsigned_idp, main.client, "nobody")
    with aws_error("UserNotFoundException"):
        admin_password_auth(idp, main.client, "nobody")
    with aws_error("UserNotFoundException"):
        srp_start(unsigned_idp, main.client, "nobody")


def test_unknown_user_with_prevent_user_existence_errors(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "known")
    with aws_error("NotAuthorizedException") as wrong_password:
        password_auth(unsigned_idp, main.enabled, "known", OTHER_STRONG_PASSWORD)
    with aws_error("NotAuthorizedException") as unknown:
        password_auth(unsigned_idp, main.enabled, "nobody")
    assert message(unknown) == message(wrong_password) == INCORRECT
    with aws_error("NotAuthorizedException") as e:
        admin_password_auth(idp, main.enabled, "nobody")
    assert message(e) == INCORRECT

    # SRP: a plausible challenge first, the refusal at the second step (reference 11.6).
    aws, params, resp = srp_start(unsigned_idp, main.enabled, "nobody")
    assert resp["ChallengeName"] == "PASSWORD_VERIFIER"
    assert {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP"} <= set(resp["ChallengeParameters"])
    # A real user's salt is the same at every attempt, so a fake one must be too.
    _, _, again = srp_start(unsigned_idp, main.enabled, "nobody")
    for key in ("SALT", "USER_ID_FOR_SRP"):
        assert again["ChallengeParameters"][key] == resp["ChallengeParameters"][key], key
    answers = aws.process_challenge(resp["ChallengeParameters"], params)
    with aws_error("NotAuthorizedException") as e:
        srp_respond(unsigned_idp, main.enabled, resp, answers)
    assert message(e) == INCORRECT
    with aws_error("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=main.id, Username="nobody")


def test_known_user_signs_in_with_prevent_user_existence_errors(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "visible")
    assert_tokens(password_auth(unsigned_idp, main.enabled, "visible"))
    assert_tokens(srp(unsigned_idp, main.enabled, "visible").authenticate_user())


def test_password_reset_required(idp, unsigned_idp, main, outbox):
    confirmed_user(idp, main.id, "rita", email="rita@example.com", email_verified="true")
    idp.admin_reset_user_password(UserPoolId=main.id, Username="rita")
    assert user_status(idp, main.id, "rita") == "RESET_REQUIRED"
    with aws_error("PasswordResetRequiredException"):
        password_auth(unsigned_idp, main.client, "rita")
    with aws_error("PasswordResetRequiredException"):
        admin_password_auth(idp, main.client, "rita")
    assert user_status(idp, main.id, "rita") == "RESET_REQUIRED"

    code = latest_code(outbox, main.id, "rita@example.com")
    unsigned_idp.confirm_forgot_password(
        ClientId=main.client.id, Username="rita", ConfirmationCode=code, Password=OTHER_STRONG_PASSWORD
    )
    assert user_status(idp, main.id, "rita") == "CONFIRMED"
    assert_tokens(password_auth(unsigned_idp, main.client, "rita", OTHER_STRONG_PASSWORD))


def test_disabled_user(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "dora")
    idp.admin_disable_user(UserPoolId=main.id, Username="dora")
    with aws_error("NotAuthorizedException") as e:
        password_auth(unsigned_idp, main.client, "dora")
    assert message(e) == "User is disabled."
    with aws_error("NotAuthorizedException") as e:
        admin_password_auth(idp, main.client, "dora")
    assert message(e) == "User is disabled."
    with aws_error("NotAuthorizedException") as e:
        srp(unsigned_idp, main.client, "dora").authenticate_user()
    assert message(e) == "User is disabled."
    user = get_user(idp, main.id, "dora")
    assert (user["Enabled"], user["UserStatus"]) == (False, "CONFIRMED")

    idp.admin_enable_user(UserPoolId=main.id, Username="dora")
    assert_tokens(password_auth(unsigned_idp, main.client, "dora"))


def test_lockout_after_five_wrong_passwords(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "lou")
    for _ in range(5):
        with aws_error("NotAuthorizedException") as e:
            password_auth(unsigned_idp, main.client, "lou", OTHER_STRONG_PASSWORD)
        assert message(e) == INCORRECT
    # Locked: even the right password is refused, by SRP as well.
    with aws_error("NotAuthorizedException") as e:
        password_auth(unsigned_idp, main.client, "lou")
    assert message(e) == "Password attempts exceeded"
    with aws_error("NotAuthorizedException") as e:
        srp(unsigned_idp, main.client, "lou").authenticate_user()
    assert message(e) == "Password attempts exceeded"
    assert user_status(idp, main.id, "lou") == "CONFIRMED"
    # The first lockout lasts about a second.
    time.sleep(1.2)
    assert_tokens(password_auth(unsigned_idp, main.client, "lou"))


def test_lockout_doubles(idp, unsigned_idp, main):
    """Reference 11.5: 2^(n-5) s after n cumulative failures: 1 s after the 5th, 2 s after the 6th."""
    confirmed_user(idp, main.id, "lucas")
    for _ in range(5):
        with aws_error("NotAuthorizedException"):
            password_auth(unsigned_idp, main.client, "lucas", OTHER_STRONG_PASSWORD)
    time.sleep(1.2)
    with aws_error("NotAuthorizedException") as e:
        password_auth(unsigned_idp, main.client, "lucas", OTHER_STRONG_PASSWORD)
    assert message(e) == INCORRECT
    started = time.monotonic()
    with aws_error("NotAuthorizedException") as e:
        password_auth(unsigned_idp, main.client, "lucas")
    assert message(e) == "Password attempts exceeded"
    time.sleep(max(0.0, 1.2 - (time.monotonic() - started)))
    with aws_error("NotAuthorizedException") as e:
        password_auth(unsigned_idp, main.client, "lucas")
    assert message(e) == "Password attempts exceeded", "the second lockout lasts about 2 s"
    time.sleep(1.2)
    assert_tokens(password_auth(unsigned_idp, main.client, "lucas"))
    assert user_status(idp, main.id, "lucas") == "CONFIRMED"


# ---------------------------------------------------------------------------------------------
# Aliases, email as username, case-insensitive pools
# ---------------------------------------------------------------------------------------------


def test_sign_in_with_an_email_alias(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "dave", email="dave@example.com", email_verified="true")
    result = assert_tokens(password_auth(unsigned_idp, main.client, "dave@example.com"))
    assert claims_of(result["IdToken"])["cognito:username"] == "dave"
    assert_tokens(admin_password_auth(idp, main.client, "dave@example.com"))

    aws, params, resp = srp_start(unsigned_idp, main.client, "dave@example.com")
    assert resp["ChallengeParameters"]["USERNAME"] == "dave"
    assert resp["ChallengeParameters"]["USER_ID_FOR_SRP"] == "dave"
    answers = aws.process_challenge(resp["ChallengeParameters"], params)
    assert_tokens(srp_respond(unsigned_idp, main.client, resp, answers))


def test_sign_in_with_an_email_alias_and_a_client_secret(idp, unsigned_idp, main):
    """SECRET_HASH uses the alias at InitiateAuth and the canonical username afterwards."""
    confirmed_user(idp, main.id, "dana", email="dana@example.com", email_verified="true")
    assert_tokens(password_auth(unsigned_idp, main.secret, "dana@example.com"))
    assert_tokens(srp(unsigned_idp, main.secret, "dana@example.com").authenticate_user())


def test_unverified_email_is_not_an_alias(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "vera", email="vera@example.com", email_verified="false")
    with aws_error("UserNotFoundException"):
        password_auth(unsigned_idp, main.client, "vera@example.com")
    assert_tokens(password_auth(unsigned_idp, main.client, "vera"))


def test_email_as_username(idp, unsigned_idp, make_pool):
    pool = make_pool(UsernameAttributes=["email"])
    client = make_client(idp, pool.id)
    user = confirmed_user(idp, pool.id, "erin@example.com", email="erin@example.com", email_verified="true")
    uuid_name = user["Username"]
    assert UUID_RE.match(uuid_name), uuid_name

    result = assert_tokens(password_auth(unsigned_idp, client, "erin@example.com"))
    claims = claims_of(result["IdToken"])
    assert claims["cognito:username"] == uuid_name == claims["sub"]
    assert claims["email"] == "erin@example.com"

    aws, params, resp = srp_start(unsigned_idp, client, "erin@example.com")
    assert resp["ChallengeParameters"]["USERNAME"] == uuid_name
    assert resp["ChallengeParameters"]["USER_ID_FOR_SRP"] == uuid_name
    answers = aws.process_challenge(resp["ChallengeParameters"], params)
    assert_tokens(srp_respond(unsigned_idp, client, resp, answers))


def test_case_insensitive_pool(idp, unsigned_idp, make_pool):
    pool = make_pool(UsernameConfiguration={"CaseSensitive": False})
    client = make_client(idp, pool.id)
    confirmed_user(idp, pool.id, "Frank")
    for typed in ("frank", "FRANK"):
        result = assert_tokens(password_auth(unsigned_idp, client, typed))
        assert claims_of(result["IdToken"])["cognito:username"].lower() == "frank"
    # SRP: the server's USER_ID_FOR_SRP is what both sides hash, whatever case was typed.
    assert_tokens(srp(unsigned_idp, client, "fRaNk").authenticate_user())


def test_case_sensitive_pool(idp, unsigned_idp, main):
    confirmed_user(idp, main.id, "Grace")
    with aws_error("UserNotFoundException"):
        password_auth(unsigned_idp, main.client, "grace")
    assert_tokens(password_auth(unsigned_idp, main.client, "Grace"))


# ---------------------------------------------------------------------------------------------
# NEW_PASSWORD_REQUIRED
# ---------------------------------------------------------------------------------------------


def admin_created(idp, pool_id, username, **attributes):
    kwargs = {"UserPoolId": pool_id, "Username": username, "TemporaryPassword": "Temp0rary!Pass",
              "MessageAction": "SUPPRESS"}
    if attributes:
        kwargs["UserAttributes"] = [{"Name": k, "Value": v} for k, v in attributes.items()]
    idp.admin_create_user(**kwargs)


def test_new_password_required(idp, unsigned_idp, main):
    admin_created(idp, main.id, "nina", email="nina@example.com", given_name="Nina")
    resp = password_auth(unsigned_idp, main.client, "nina", "Temp0rary!Pass")
    assert resp["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert "AuthenticationResult" not in resp
    session = resp["Session"]
    cp = resp["ChallengeParameters"]
    assert cp["USER_ID_FOR_SRP"] == "nina"
    required = json.loads(cp["requiredAttributes"])
    assert required == []
    current = json.loads(cp["userAttributes"])
    assert isinstance(current, dict)
    assert current.get("email") == "nina@example.com"
    assert all(isinstance(v, str) for v in current.values())

    def answer(password):
        return unsigned_idp.respond_to_auth_challenge(
            ClientId=main.client.id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=session,
            ChallengeResponses={"USERNAME": "nina", "NEW_PASSWORD": password},
        )

    with aws_error("InvalidPasswordException"):
        answer("weak")
    assert user_status(idp, main.id, "nina") == "FORCE_CHANGE_PASSWORD"

    result = assert_tokens(answer(OTHER_STRONG_PASSWORD))
    assert claims_of(result["IdToken"])["cognito:username"] == "nina"
    assert user_status(idp, main.id, "nina") == "CONFIRMED"
    # The session was used up.
    with aws_error("NotAuthorizedException"):
        answer("Yet4nother!Passw0rd")
    with aws_error("NotAuthorizedException"):
        password_auth(unsigned_idp, main.client, "nina", "Temp0rary!Pass")
    assert_tokens(password_auth(unsigned_idp, main.client, "nina", OTHER_STRONG_PASSWORD))


def test_srp_with_the_password_chosen_at_the_new_password_challenge(idp, unsigned_idp, main):
    """The new password must work for every flow, SRP included (what pycognito and Amplify use)."""
    admin_created(idp, main.id, "nigel")
    resp = password_auth(unsigned_idp, main.client, "nigel", "Temp0rary!Pass")
    assert_tokens(unsigned_idp.respond_to_auth_challenge(
        ClientId=main.client.id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=resp["Session"],
        ChallengeResponses={"USERNAME": "nigel", "NEW_PASSWORD": OTHER_STRONG_PASSWORD},
    ))
    assert_tokens(srp(unsigned_idp, main.client, "nigel", OTHER_STRONG_PASSWORD).authenticate_user())
    with aws_error("NotAuthorizedException"):
        srp(unsigned_idp, main.client, "nigel", "Temp0rary!Pass").authenticate_user()


def test_new_password_required_admin_flow(idp, main):
    admin_created(idp, main.id, "norbert")
    resp = admin_password_auth(idp, main.client, "norbert", "Temp0rary!Pass")
    assert resp["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    # Optional writable attributes may be set while answering.
    result = idp.admin_respond_to_auth_challenge(
        UserPoolId=main.id, ClientId=main.client.id, ChallengeName="NEW_PASSWORD_REQUIRED",
        Session=resp["Session"],
        ChallengeResponses={
            "USERNAME": "norbert", "NEW_PASSWORD": OTHER_STRONG_PASSWORD, "userAttributes.given_name": "Norbert",
        },
    )
    assert claims_of(assert_tokens(result)["IdToken"])["given_name"] == "Norbert"
    user = get_user(idp, main.id, "norbert")
    assert user["UserStatus"] == "CONFIRMED"
    assert attrs(user)["given_name"] == "Norbert"


def test_new_password_required_after_srp(idp, unsigned_idp, main):
    admin_created(idp, main.id, "nora")
    aws, params, resp = srp_start(unsigned_idp, main.client, "nora", "Temp0rary!Pass")
    answers = aws.process_challenge(resp["ChallengeParameters"], params)
    step = srp_respond(unsigned_idp, main.client, resp, answers)
    assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    result = unsigned_idp.respond_to_auth_challenge(
        ClientId=main.client.id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=step["Session"],
        ChallengeResponses={"USERNAME": "nora", "NEW_PASSWORD": OTHER_STRONG_PASSWORD},
    )
    assert_tokens(result)
    assert user_status(idp, main.id, "nora") == "CONFIRMED"
