"""SignUp, ConfirmSignUp and ResendConfirmationCode through boto3 (reference 2.5, 2.17, 5.3, 11.4).

Every error case also checks what it left behind: a refused SignUp created no user and sent no
message; a refused confirmation left the user UNCONFIRMED.
"""

from __future__ import annotations

import pytest

from signin_support import (
    latest_code,
    make_client,
    password_auth,
    temporary_pool,
    to,
    user_status,
    wrong_code,
)
from support import (
    MISSING_CLIENT_ID,
    NOT_FOUND_STATUSES,
    SIX_DIGITS_RE,
    STRONG_PASSWORD,
    UUID4_RE,
    all_users,
    attr_list,
    attrs,
    aws_error,
    get_user,
)

MASKED_BOB = "b***@e***"


@pytest.fixture(scope="module")
def vpool(idp):
    """A pool that auto-verifies email, with the default password policy."""
    with temporary_pool(idp, "signup-verify", AutoVerifiedAttributes=["email"]) as p:
        yield p


@pytest.fixture(scope="module")
def vclient(idp, vpool):
    return make_client(idp, vpool.id)


@pytest.fixture(scope="module")
def vsecret_client(idp, vpool):
    return make_client(idp, vpool.id, secret=True)


def sign_up(unsigned_idp, client, username, password=STRONG_PASSWORD, **attributes):
    kwargs = {"ClientId": client.id, "Username": username, "Password": password}
    if attributes:
        kwargs["UserAttributes"] = attr_list(**attributes)
    if client.secret:
        kwargs["SecretHash"] = client.secret_hash(username)
    return unsigned_idp.sign_up(**kwargs)


def confirm(unsigned_idp, client, username, code, **extra):
    kwargs = {"ClientId": client.id, "Username": username, "ConfirmationCode": code, **extra}
    if client.secret and "SecretHash" not in extra:
        kwargs["SecretHash"] = client.secret_hash(username)
    return unsigned_idp.confirm_sign_up(**kwargs)


def no_such_user(idp, pool_id, username):
    with aws_error("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=pool_id, Username=username)


# ---------------------------------------------------------------------------------------------
# SignUp
# ---------------------------------------------------------------------------------------------


def test_sign_up_creates_an_unconfirmed_user_and_sends_a_code(idp, unsigned_idp, vpool, vclient, outbox):
    resp = sign_up(unsigned_idp, vclient, "bob", email="bob@example.com", given_name="Bob")
    assert resp["UserConfirmed"] is False
    assert UUID4_RE.match(resp["UserSub"]), resp["UserSub"]
    assert resp["CodeDeliveryDetails"] == {
        "Destination": MASKED_BOB,
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }

    user = get_user(idp, vpool.id, "bob")
    assert user["UserStatus"] == "UNCONFIRMED"
    assert user["Enabled"] is True
    a = attrs(user)
    assert a["sub"] == resp["UserSub"]
    assert a["email"] == "bob@example.com"
    assert a["given_name"] == "Bob"
    assert a.get("email_verified", "false") == "false"

    [msg] = outbox.wait_for(to(vpool.id, "bob@example.com"))
    assert msg["channel"] == "EMAIL"
    assert msg["username"] == "bob"
    assert SIX_DIGITS_RE.match(msg["code"]), msg
    assert msg["code"] in msg["body"]


def test_confirm_sign_up_confirms_and_verifies_the_email(idp, unsigned_idp, vpool, vclient, outbox):
    sign_up(unsigned_idp, vclient, "carl", email="carl@example.com")
    code = latest_code(outbox, vpool.id, "carl@example.com")
    resp = confirm(unsigned_idp, vclient, "carl", code)
    assert set(resp) - {"ResponseMetadata", "Session"} == set()
    user = get_user(idp, vpool.id, "carl")
    assert user["UserStatus"] == "CONFIRMED"
    assert attrs(user)["email_verified"] == "true"
    # The password given at sign-up now signs in.
    assert "AuthenticationResult" in password_auth(unsigned_idp, vclient, "carl")


def test_unconfirmed_user_cannot_sign_in(idp, unsigned_idp, vpool, vclient):
    sign_up(unsigned_idp, vclient, "ursula", email="ursula@example.com")
    with aws_error("UserNotConfirmedException"):
        password_auth(unsigned_idp, vclient, "ursula")
    assert user_status(idp, vpool.id, "ursula") == "UNCONFIRMED"


def test_sign_up_without_auto_verified_attributes_sends_nothing(idp, unsigned_idp, make_pool, outbox):
    pool = make_pool()
    client = make_client(idp, pool.id)
    resp = sign_up(unsigned_idp, client, "quiet", email="quiet@example.com")
    assert resp["UserConfirmed"] is False
    assert "CodeDeliveryDetails" not in resp
    assert get_user(idp, pool.id, "quiet")["UserStatus"] == "UNCONFIRMED"
    assert outbox.matching(to(pool.id, "quiet@example.com")) == []


def test_sign_up_with_a_client_secret(idp, unsigned_idp, vpool, vsecret_client, outbox):
    client = vsecret_client
    base = {"ClientId": client.id, "Password": STRONG_PASSWORD,
            "UserAttributes": attr_list(email="sally@example.com")}

    with aws_error("NotAuthorizedException") as e:
        unsigned_idp.sign_up(Username="sally", **base)
    assert "SECRET_HASH" in e.value.response["Error"]["Message"] or "secret" in \
        e.value.response["Error"]["Message"].lower()
    with aws_error("NotAuthorizedException"):
        unsigned_idp.sign_up(Username="sally", SecretHash=client.secret_hash("someone-else"), **base)
    no_such_user(idp, vpool.id, "sally")
    assert outbox.matching(to(vpool.id, "sally@example.com")) == []

    resp = unsigned_idp.sign_up(Username="sally", SecretHash=client.secret_hash("sally"), **base)
    assert resp["UserConfirmed"] is False
    code = latest_code(outbox, vpool.id, "sally@example.com")

    # ConfirmSignUp needs the SecretHash too.
    with aws_error("NotAuthorizedException"):
        unsigned_idp.confirm_sign_up(ClientId=client.id, Username="sally", ConfirmationCode=code)
    with aws_error("NotAuthorizedException"):
        unsigned_idp.confirm_sign_up(
            ClientId=client.id, Username="sally", ConfirmationCode=code,
            SecretHash=client.secret_hash("sallY"),
        )
    assert user_status(idp, vpool.id, "sally") == "UNCONFIRMED"
    confirm(unsigned_idp, client, "sally", code)
    assert user_status(idp, vpool.id, "sally") == "CONFIRMED"


def test_sign_up_for_an_unknown_client(unsigned_idp):
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        unsigned_idp.sign_up(ClientId=MISSING_CLIENT_ID, Username="nobody", Password=STRONG_PASSWORD)


WEAK_PASSWORDS = {
    "too-short": "Sh0rt!",
    "no-upper": "nouppercase1!",
    "no-lower": "NOLOWERCASE1!",
    "no-digit": "NoDigitsHere!",
    "no-symbol": "NoSymbols123",
}


@pytest.mark.parametrize("case", sorted(WEAK_PASSWORDS))
def test_password_policy(idp, unsigned_idp, vpool, vclient, outbox, case):
    username, password = f"weak-{case}", WEAK_PASSWORDS[case]
    with aws_error("InvalidPasswordException"):
        sign_up(unsigned_idp, vclient, username, password, email=f"{username}@example.com")
    no_such_user(idp, vpool.id, username)
    assert outbox.matching(to(vpool.id, f"{username}@example.com")) == []


@pytest.mark.parametrize(
    "username", ["has space", "tab\there", ""], ids=["space", "tab", "empty"]
)
def test_malformed_username(idp, lax_idp, vpool, vclient, username):
    """Model pattern [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+, length 1..128."""
    with aws_error("InvalidParameterException"):
        lax_idp.sign_up(ClientId=vclient.id, Username=username, Password=STRONG_PASSWORD)
    assert not [u for u in all_users(idp, vpool.id) if u["Username"] == username]


def test_unknown_attribute(idp, unsigned_idp, vpool, vclient, outbox):
    with aws_error("InvalidParameterException"):
        sign_up(unsigned_idp, vclient, "oddattr", email="oddattr@example.com", custom__nope="x")
    no_such_user(idp, vpool.id, "oddattr")
    assert outbox.matching(to(vpool.id, "oddattr@example.com")) == []


def test_relaxed_password_policy(idp, unsigned_idp, make_pool):
    pool = make_pool(Policies={"PasswordPolicy": {
        "MinimumLength": 6, "RequireUppercase": False, "RequireLowercase": False,
        "RequireNumbers": False, "RequireSymbols": False,
    }})
    client = make_client(idp, pool.id)
    with aws_error("InvalidPasswordException"):
        sign_up(unsigned_idp, client, "tiny", "abcde")
    no_such_user(idp, pool.id, "tiny")
    assert sign_up(unsigned_idp, client, "simple", "abcdef")["UserConfirmed"] is False
    assert get_user(idp, pool.id, "simple")["UserStatus"] == "UNCONFIRMED"


def test_required_attributes(idp, unsigned_idp, make_pool):
    pool = make_pool(Schema=[
        {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
        {"Name": "family_name", "AttributeDataType": "String", "Required": True, "Mutable": True},
    ])
    client = make_client(idp, pool.id)
    with aws_error("InvalidParameterException"):
        sign_up(unsigned_idp, client, "partial", email="partial@example.com")
    with aws_error("InvalidParameterException"):
        sign_up(unsigned_idp, client, "partial", family_name="Partial")
    no_such_user(idp, pool.id, "partial")
    assert all_users(idp, pool.id) == []

    sign_up(unsigned_idp, client, "complete", email="complete@example.com", family_name="Complete")
    a = attrs(get_user(idp, pool.id, "complete"))
    assert (a["email"], a["family_name"]) == ("complete@example.com", "Complete")


def test_admin_create_user_only(idp, unsigned_idp, make_pool, outbox):
    pool = make_pool(AdminCreateUserConfig={"AllowAdminCreateUserOnly": True}, AutoVerifiedAttributes=["email"])
    client = make_client(idp, pool.id)
    with aws_error("NotAuthorizedException"):
        sign_up(unsigned_idp, client, "walkin", email="walkin@example.com")
    assert all_users(idp, pool.id) == []
    assert outbox.matching(to(pool.id, "walkin@example.com")) == []


def test_username_exists(idp, unsigned_idp, vpool, vclient, outbox):
    first = sign_up(unsigned_idp, vclient, "twin", email="twin1@example.com")
    with aws_error("UsernameExistsException"):
        sign_up(unsigned_idp, vclient, "twin", email="twin2@example.com")
    user = get_user(idp, vpool.id, "twin")
    assert attrs(user)["sub"] == first["UserSub"]
    assert attrs(user)["email"] == "twin1@example.com"
    assert outbox.matching(to(vpool.id, "twin2@example.com")) == []


def test_username_exists_in_a_case_insensitive_pool(idp, unsigned_idp, make_pool):
    pool = make_pool(UsernameConfiguration={"CaseSensitive": False})
    client = make_client(idp, pool.id)
    first = sign_up(unsigned_idp, client, "Mixed")
    with aws_error("UsernameExistsException"):
        sign_up(unsigned_idp, client, "mIXED")
    users = all_users(idp, pool.id)
    assert len(users) == 1
    assert attrs(users[0])["sub"] == first["UserSub"]


def test_sign_up_with_email_as_username(idp, unsigned_idp, make_pool, outbox):
    pool = make_pool(UsernameAttributes=["email"], AutoVerifiedAttributes=["email"])
    client = make_client(idp, pool.id)
    resp = sign_up(unsigned_idp, client, "erin@example.com")
    assert resp["CodeDeliveryDetails"]["Destination"] == "e***@e***"
    user = get_user(idp, pool.id, "erin@example.com")
    # The real username is generated: a UUID equal to sub.
    assert user["Username"] == resp["UserSub"] == attrs(user)["sub"]
    assert attrs(user)["email"] == "erin@example.com"

    with aws_error("UsernameExistsException"):
        sign_up(unsigned_idp, client, "erin@example.com")
    assert len(all_users(idp, pool.id)) == 1

    code = latest_code(outbox, pool.id, "erin@example.com")
    confirm(unsigned_idp, client, "erin@example.com", code)
    user = get_user(idp, pool.id, "erin@example.com")
    assert user["UserStatus"] == "CONFIRMED"
    assert attrs(user)["email_verified"] == "true"


def test_email_as_username_needs_an_email(idp, unsigned_idp, make_pool):
    pool = make_pool(UsernameAttributes=["email"])
    client = make_client(idp, pool.id)
    with aws_error("InvalidParameterException"):
        sign_up(unsigned_idp, client, "not-an-email")
    assert all_users(idp, pool.id) == []


def test_confirmed_email_becomes_a_sign_in_alias(idp, unsigned_idp, make_pool, outbox):
    pool = make_pool(AliasAttributes=["email"], AutoVerifiedAttributes=["email"])
    client = make_client(idp, pool.id)
    sign_up(unsigned_idp, client, "gina", email="gina@example.com")
    confirm(unsigned_idp, client, "gina", latest_code(outbox, pool.id, "gina@example.com"))
    assert get_user(idp, pool.id, "gina@example.com")["Username"] == "gina"
    assert "AuthenticationResult" in password_auth(unsigned_idp, client, "gina@example.com")


def test_confirming_an_email_that_is_another_users_alias(idp, unsigned_idp, make_pool, outbox):
    """Reference 2.5: AliasExistsException unless ForceAliasCreation, which moves the alias."""
    pool = make_pool(AliasAttributes=["email"], AutoVerifiedAttributes=["email"])
    client = make_client(idp, pool.id)
    sign_up(unsigned_idp, client, "first", email="shared@example.com")
    confirm(unsigned_idp, client, "first", latest_code(outbox, pool.id, "shared@example.com"))
    sign_up(unsigned_idp, client, "second", email="shared@example.com")
    code = latest_code(outbox, pool.id, "shared@example.com", count=2)

    with aws_error("AliasExistsException"):
        confirm(unsigned_idp, client, "second", code)
    assert user_status(idp, pool.id, "second") == "UNCONFIRMED"
    assert get_user(idp, pool.id, "shared@example.com")["Username"] == "first"

    confirm(unsigned_idp, client, "second", code, ForceAliasCreation=True)
    assert user_status(idp, pool.id, "second") == "CONFIRMED"
    assert get_user(idp, pool.id, "shared@example.com")["Username"] == "second"
    assert attrs(get_user(idp, pool.id, "first")).get("email_verified") != "true"


# ---------------------------------------------------------------------------------------------
# ConfirmSignUp errors
# ---------------------------------------------------------------------------------------------


def test_wrong_code(idp, unsigned_idp, vpool, vclient, outbox):
    sign_up(unsigned_idp, vclient, "wrongcode", email="wrongcode@example.com")
    code = latest_code(outbox, vpool.id, "wrongcode@example.com")
    with aws_error("CodeMismatchException"):
        confirm(unsigned_idp, vclient, "wrongcode", wrong_code(code))
    user = get_user(idp, vpool.id, "wrongcode")
    assert user["UserStatus"] == "UNCONFIRMED"
    assert attrs(user).get("email_verified", "false") == "false"
    # A wrong guess does not spoil the right code.
    confirm(unsigned_idp, vclient, "wrongcode", code)
    assert user_status(idp, vpool.id, "wrongcode") == "CONFIRMED"


def test_too_many_wrong_codes(idp, unsigned_idp, vpool, vclient, outbox):
    sign_up(unsigned_idp, vclient, "guesser", email="guesser@example.com")
    code = latest_code(outbox, vpool.id, "guesser@example.com")
    bad = wrong_code(code)
    seen = []
    for _ in range(6):
        with aws_error(("CodeMismatchException", "LimitExceededException")) as e:
            confirm(unsigned_idp, vclient, "guesser", bad)
        seen.append(e.value.response["Error"]["Code"])
    assert seen == ["CodeMismatchException"] * 5 + ["LimitExceededException"], seen
    assert e.value.response["Error"]["Message"] == "Attempt limit exceeded, please try after some time."
    # Past the limit not even the right code confirms ...
    with aws_error("LimitExceededException"):
        confirm(unsigned_idp, vclient, "guesser", code)
    # ... and a new code buys no new guesses: attempts are counted per user, not per code.
    unsigned_idp.resend_confirmation_code(ClientId=vclient.id, Username="guesser")
    fresh = latest_code(outbox, vpool.id, "guesser@example.com", count=2)
    with aws_error("LimitExceededException"):
        confirm(unsigned_idp, vclient, "guesser", fresh)
    assert user_status(idp, vpool.id, "guesser") == "UNCONFIRMED"


def test_resent_code_supersedes_the_old_one(idp, unsigned_idp, vpool, vclient, outbox):
    sign_up(unsigned_idp, vclient, "resend", email="resend@example.com")
    old = latest_code(outbox, vpool.id, "resend@example.com")
    resp = unsigned_idp.resend_confirmation_code(ClientId=vclient.id, Username="resend")
    assert resp["CodeDeliveryDetails"] == {
        "Destination": "r***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email",
    }
    new = latest_code(outbox, vpool.id, "resend@example.com", count=2)
    assert SIX_DIGITS_RE.match(new)
    if new != old:  # one chance in a million that they coincide
        with aws_error("ExpiredCodeException"):
            confirm(unsigned_idp, vclient, "resend", old)
        assert user_status(idp, vpool.id, "resend") == "UNCONFIRMED"
    confirm(unsigned_idp, vclient, "resend", new)
    assert user_status(idp, vpool.id, "resend") == "CONFIRMED"


def test_resend_needs_the_secret_hash(idp, unsigned_idp, vpool, vsecret_client, outbox):
    client = vsecret_client
    sign_up(unsigned_idp, client, "resecret", email="resecret@example.com")
    outbox.wait_for(to(vpool.id, "resecret@example.com"))
    with aws_error("NotAuthorizedException"):
        unsigned_idp.resend_confirmation_code(ClientId=client.id, Username="resecret")
    assert len(outbox.matching(to(vpool.id, "resecret@example.com"))) == 1
    unsigned_idp.resend_confirmation_code(
        ClientId=client.id, Username="resecret", SecretHash=client.secret_hash("resecret")
    )
    outbox.wait_for(to(vpool.id, "resecret@example.com"), count=2)


def test_confirming_a_confirmed_user(idp, unsigned_idp, vpool, vclient, outbox):
    sign_up(unsigned_idp, vclient, "twice", email="twice@example.com")
    code = latest_code(outbox, vpool.id, "twice@example.com")
    confirm(unsigned_idp, vclient, "twice", code)
    with aws_error("NotAuthorizedException") as e:
        confirm(unsigned_idp, vclient, "twice", code)
    assert "CONFIRMED" in e.value.response["Error"]["Message"]
    assert user_status(idp, vpool.id, "twice") == "CONFIRMED"


def test_confirm_unknown_user_legacy(idp, unsigned_idp, vclient):
    with aws_error("UserNotFoundException"):
        confirm(unsigned_idp, vclient, "ghost", "123456")


def test_resend_for_unknown_user_legacy(idp, unsigned_idp, vpool, vclient):
    with aws_error("UserNotFoundException"):
        unsigned_idp.resend_confirmation_code(ClientId=vclient.id, Username="ghost")
    no_such_user(idp, vpool.id, "ghost")


def test_resend_for_unknown_user_with_prevent_user_existence_errors(idp, unsigned_idp, vpool, outbox):
    client = make_client(idp, vpool.id, PreventUserExistenceErrors="ENABLED")
    resp = unsigned_idp.resend_confirmation_code(ClientId=client.id, Username="ghost")
    assert resp["CodeDeliveryDetails"]["DeliveryMedium"] in ("EMAIL", "SMS")
    assert resp["CodeDeliveryDetails"].get("Destination")
    no_such_user(idp, vpool.id, "ghost")
    assert outbox.matching(lambda m: m.get("pool_id") == vpool.id and m.get("username") == "ghost") == []
