"""What a signed-in user does with the access token, sign-out and revocation, refresh-token rotation
and forgotten passwords (reference 2.8, 2.11, 2.12, 2.13, 11.6).
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from signin_support import (
    INCORRECT,
    confirmed_user,
    latest_code,
    make_client,
    password_auth,
    refresh,
    srp,
    temporary_pool,
    to,
    tokens,
    wrong_code,
)
from support import OTHER_STRONG_PASSWORD, SIX_DIGITS_RE, STRONG_PASSWORD, attr_list, attrs, aws_error, get_user

THIRD_PASSWORD = "Th1rd&Passw0rd!x"


@pytest.fixture(scope="module")
def sp(idp):
    with temporary_pool(idp, "self-service", AutoVerifiedAttributes=["email"]) as p:
        yield SimpleNamespace(
            id=p.id,
            client=make_client(idp, p.id),
            enabled=make_client(idp, p.id, PreventUserExistenceErrors="ENABLED"),
            secret=make_client(idp, p.id, secret=True),
            no_revocation=make_client(idp, p.id, EnableTokenRevocation=False),
            rotating=make_client(
                idp, p.id, flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                RefreshTokenRotation={"Feature": "ENABLED", "RetryGracePeriodSeconds": 1},
            ),
        )


def user(idp, sp, name, **attributes):
    attributes.setdefault("email", f"{name}@example.com")
    attributes.setdefault("email_verified", "true")
    return confirmed_user(idp, sp.id, name, **attributes)


def refused(unsigned_idp, access_token):
    with aws_error("NotAuthorizedException"):
        unsigned_idp.get_user(AccessToken=access_token)


def refresh_refused(unsigned_idp, client, refresh_token):
    with aws_error("NotAuthorizedException"):
        refresh(unsigned_idp, client, refresh_token)


# ---------------------------------------------------------------------------------------------
# GetUser and attributes
# ---------------------------------------------------------------------------------------------


def test_get_user(idp, unsigned_idp, sp):
    created = user(idp, sp, "gus", given_name="Gus")
    t = tokens(unsigned_idp, sp.client, "gus")
    got = unsigned_idp.get_user(AccessToken=t["AccessToken"])
    assert got["Username"] == "gus"
    a = attrs(got["UserAttributes"])
    assert a["sub"] == attrs(created)["sub"]
    assert (a["email"], a["email_verified"], a["given_name"]) == ("gus@example.com", "true", "Gus")


def test_update_user_attributes(idp, unsigned_idp, sp, outbox):
    user(idp, sp, "uma", given_name="Uma")
    t = tokens(unsigned_idp, sp.client, "uma")
    resp = unsigned_idp.update_user_attributes(
        AccessToken=t["AccessToken"], UserAttributes=attr_list(given_name="Umberta", family_name="Ugo")
    )
    assert resp.get("CodeDeliveryDetailsList", []) == []
    a = attrs(unsigned_idp.get_user(AccessToken=t["AccessToken"])["UserAttributes"])
    assert (a["given_name"], a["family_name"]) == ("Umberta", "Ugo")
    assert a["email_verified"] == "true"
    assert attrs(get_user(idp, sp.id, "uma"))["given_name"] == "Umberta"
    assert outbox.matching(to(sp.id, "uma@example.com")) == []


def test_update_to_an_unknown_attribute_changes_nothing(idp, unsigned_idp, sp):
    user(idp, sp, "ulla", given_name="Ulla")
    t = tokens(unsigned_idp, sp.client, "ulla")
    before = attrs(get_user(idp, sp.id, "ulla"))
    with aws_error("InvalidParameterException"):
        unsigned_idp.update_user_attributes(
            AccessToken=t["AccessToken"],
            UserAttributes=attr_list(given_name="Changed", custom__missing="x"),
        )
    assert attrs(get_user(idp, sp.id, "ulla")) == before


def test_changing_email_unverifies_it_and_sends_a_code(idp, unsigned_idp, sp, outbox):
    user(idp, sp, "ned")
    t = tokens(unsigned_idp, sp.client, "ned")
    resp = unsigned_idp.update_user_attributes(
        AccessToken=t["AccessToken"], UserAttributes=attr_list(email="newned@example.com")
    )
    assert resp["CodeDeliveryDetailsList"] == [
        {"Destination": "n***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}
    ]
    a = attrs(get_user(idp, sp.id, "ned"))
    assert (a["email"], a["email_verified"]) == ("newned@example.com", "false")
    code = latest_code(outbox, sp.id, "newned@example.com")
    assert SIX_DIGITS_RE.match(code)

    with aws_error("CodeMismatchException"):
        unsigned_idp.verify_user_attribute(
            AccessToken=t["AccessToken"], AttributeName="email", Code=wrong_code(code)
        )
    assert attrs(get_user(idp, sp.id, "ned"))["email_verified"] == "false"
    unsigned_idp.verify_user_attribute(AccessToken=t["AccessToken"], AttributeName="email", Code=code)
    assert attrs(get_user(idp, sp.id, "ned"))["email_verified"] == "true"


def test_changing_email_without_auto_verification(idp, unsigned_idp, make_pool, outbox):
    pool = make_pool()
    client = make_client(idp, pool.id)
    confirmed_user(idp, pool.id, "nat", email="nat@example.com", email_verified="true")
    t = tokens(unsigned_idp, client, "nat")
    resp = unsigned_idp.update_user_attributes(
        AccessToken=t["AccessToken"], UserAttributes=attr_list(email="newnat@example.com")
    )
    assert resp.get("CodeDeliveryDetailsList", []) == []
    a = attrs(get_user(idp, pool.id, "nat"))
    assert (a["email"], a["email_verified"]) == ("newnat@example.com", "false")
    assert outbox.matching(to(pool.id, "newnat@example.com")) == []


def test_attribute_verification_code(idp, unsigned_idp, sp, outbox):
    user(idp, sp, "vic", email_verified="false")
    t = tokens(unsigned_idp, sp.client, "vic")
    resp = unsigned_idp.get_user_attribute_verification_code(AccessToken=t["AccessToken"], AttributeName="email")
    assert resp["CodeDeliveryDetails"] == {
        "Destination": "v***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email",
    }
    code = latest_code(outbox, sp.id, "vic@example.com")
    assert attrs(get_user(idp, sp.id, "vic"))["email_verified"] == "false"
    unsigned_idp.verify_user_attribute(AccessToken=t["AccessToken"], AttributeName="email", Code=code)
    assert attrs(get_user(idp, sp.id, "vic"))["email_verified"] == "true"


def test_delete_user_attributes(idp, unsigned_idp, sp):
    user(idp, sp, "dee", given_name="Dee", family_name="Dot")
    t = tokens(unsigned_idp, sp.client, "dee")
    unsigned_idp.delete_user_attributes(AccessToken=t["AccessToken"], UserAttributeNames=["given_name"])
    a = attrs(unsigned_idp.get_user(AccessToken=t["AccessToken"])["UserAttributes"])
    assert "given_name" not in a
    assert (a["family_name"], a["email"]) == ("Dot", "dee@example.com")
    assert "given_name" not in attrs(get_user(idp, sp.id, "dee"))


# ---------------------------------------------------------------------------------------------
# Passwords
# ---------------------------------------------------------------------------------------------


def test_change_password(idp, unsigned_idp, sp):
    user(idp, sp, "cher")
    t = tokens(unsigned_idp, sp.client, "cher")
    with aws_error("NotAuthorizedException") as e:
        unsigned_idp.change_password(
            AccessToken=t["AccessToken"], PreviousPassword=THIRD_PASSWORD, ProposedPassword=OTHER_STRONG_PASSWORD
        )
    assert e.value.response["Error"]["Message"] == INCORRECT
    with aws_error("InvalidPasswordException"):
        unsigned_idp.change_password(
            AccessToken=t["AccessToken"], PreviousPassword=STRONG_PASSWORD, ProposedPassword="weak"
        )
    # Neither attempt changed the password.
    tokens(unsigned_idp, sp.client, "cher", STRONG_PASSWORD)

    unsigned_idp.change_password(
        AccessToken=t["AccessToken"], PreviousPassword=STRONG_PASSWORD, ProposedPassword=OTHER_STRONG_PASSWORD
    )
    with aws_error("NotAuthorizedException"):
        password_auth(unsigned_idp, sp.client, "cher", STRONG_PASSWORD)
    tokens(unsigned_idp, sp.client, "cher", OTHER_STRONG_PASSWORD)
    assert "AuthenticationResult" in srp(unsigned_idp, sp.client, "cher", OTHER_STRONG_PASSWORD).authenticate_user()
    assert get_user(idp, sp.id, "cher")["UserStatus"] == "CONFIRMED"


def test_forgot_password(idp, unsigned_idp, sp, outbox):
    user(idp, sp, "fay")
    resp = unsigned_idp.forgot_password(ClientId=sp.client.id, Username="fay")
    assert resp["CodeDeliveryDetails"] == {
        "Destination": "f***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email",
    }
    code = latest_code(outbox, sp.id, "fay@example.com")
    assert SIX_DIGITS_RE.match(code)

    def confirm(c, password):
        return unsigned_idp.confirm_forgot_password(
            ClientId=sp.client.id, Username="fay", ConfirmationCode=c, Password=password
        )

    with aws_error("CodeMismatchException"):
        confirm(wrong_code(code), OTHER_STRONG_PASSWORD)
    with aws_error("InvalidPasswordException"):
        confirm(code, "weak")
    assert get_user(idp, sp.id, "fay")["UserStatus"] == "CONFIRMED"
    tokens(unsigned_idp, sp.client, "fay", STRONG_PASSWORD)  # unchanged so far

    confirm(code, OTHER_STRONG_PASSWORD)
    with aws_error("NotAuthorizedException"):
        password_auth(unsigned_idp, sp.client, "fay", STRONG_PASSWORD)
    tokens(unsigned_idp, sp.client, "fay", OTHER_STRONG_PASSWORD)
    assert "AuthenticationResult" in srp(unsigned_idp, sp.client, "fay", OTHER_STRONG_PASSWORD).authenticate_user()
    # A used code cannot be used again.
    with aws_error(("CodeMismatchException", "ExpiredCodeException")):
        confirm(code, THIRD_PASSWORD)
    tokens(unsigned_idp, sp.client, "fay", OTHER_STRONG_PASSWORD)


def test_forgot_password_for_an_unknown_user(idp, unsigned_idp, sp, outbox):
    with aws_error("UserNotFoundException"):
        unsigned_idp.forgot_password(ClientId=sp.client.id, Username="phantom")
    # PreventUserExistenceErrors: a simulated delivery, nothing sent, nobody created.
    resp = unsigned_idp.forgot_password(ClientId=sp.enabled.id, Username="phantom")
    details = resp["CodeDeliveryDetails"]
    assert details["DeliveryMedium"] in ("EMAIL", "SMS")
    assert details.get("Destination")
    with aws_error("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=sp.id, Username="phantom")
    assert outbox.matching(lambda m: m.get("pool_id") == sp.id and m.get("username") == "phantom") == []


def test_forgot_password_needs_a_verified_contact(idp, unsigned_idp, sp, outbox):
    user(idp, sp, "nocontact", email_verified="false")
    with aws_error("InvalidParameterException"):
        unsigned_idp.forgot_password(ClientId=sp.client.id, Username="nocontact")
    assert outbox.matching(to(sp.id, "nocontact@example.com")) == []
    assert get_user(idp, sp.id, "nocontact")["UserStatus"] == "CONFIRMED"


def test_forgot_password_with_a_client_secret(idp, unsigned_idp, sp, outbox):
    user(idp, sp, "fifi")
    with aws_error("NotAuthorizedException"):
        unsigned_idp.forgot_password(ClientId=sp.secret.id, Username="fifi")
    assert outbox.matching(to(sp.id, "fifi@example.com")) == []
    unsigned_idp.forgot_password(ClientId=sp.secret.id, Username="fifi", SecretHash=sp.secret.secret_hash("fifi"))
    code = latest_code(outbox, sp.id, "fifi@example.com")
    unsigned_idp.confirm_forgot_password(
        ClientId=sp.secret.id, Username="fifi", ConfirmationCode=code, Password=OTHER_STRONG_PASSWORD,
        SecretHash=sp.secret.secret_hash("fifi"),
    )
    tokens(unsigned_idp, sp.client, "fifi", OTHER_STRONG_PASSWORD)


# ---------------------------------------------------------------------------------------------
# DeleteUser, sign-out, revocation
# ---------------------------------------------------------------------------------------------


def test_delete_user(idp, unsigned_idp, sp):
    user(idp, sp, "dan")
    t = tokens(unsigned_idp, sp.client, "dan")
    unsigned_idp.delete_user(AccessToken=t["AccessToken"])
    with aws_error("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=sp.id, Username="dan")
    with aws_error(("NotAuthorizedException", "UserNotFoundException")):
        unsigned_idp.get_user(AccessToken=t["AccessToken"])
    with aws_error(("NotAuthorizedException", "UserNotFoundException")):
        refresh(unsigned_idp, sp.client, t["RefreshToken"])
    with aws_error("UserNotFoundException"):
        password_auth(unsigned_idp, sp.client, "dan")


def test_global_sign_out(idp, unsigned_idp, sp):
    user(idp, sp, "gia")
    first = tokens(unsigned_idp, sp.client, "gia")
    second = tokens(unsigned_idp, sp.client, "gia")
    unsigned_idp.global_sign_out(AccessToken=first["AccessToken"])
    for t in (first, second):
        refused(unsigned_idp, t["AccessToken"])
        refresh_refused(unsigned_idp, sp.client, t["RefreshToken"])
    # A new sign-in is unaffected.
    fresh = tokens(unsigned_idp, sp.client, "gia")
    assert unsigned_idp.get_user(AccessToken=fresh["AccessToken"])["Username"] == "gia"
    assert "AccessToken" in refresh(unsigned_idp, sp.client, fresh["RefreshToken"])["AuthenticationResult"]
    assert get_user(idp, sp.id, "gia")["UserStatus"] == "CONFIRMED"


def test_admin_user_global_sign_out(idp, unsigned_idp, sp):
    user(idp, sp, "ada")
    t = tokens(unsigned_idp, sp.client, "ada")
    idp.admin_user_global_sign_out(UserPoolId=sp.id, Username="ada")
    refused(unsigned_idp, t["AccessToken"])
    refresh_refused(unsigned_idp, sp.client, t["RefreshToken"])
    fresh = tokens(unsigned_idp, sp.client, "ada")
    assert unsigned_idp.get_user(AccessToken=fresh["AccessToken"])["Username"] == "ada"


def test_disabled_user_cannot_refresh(idp, unsigned_idp, sp):
    user(idp, sp, "dis")
    t = tokens(unsigned_idp, sp.client, "dis")
    idp.admin_disable_user(UserPoolId=sp.id, Username="dis")
    refresh_refused(unsigned_idp, sp.client, t["RefreshToken"])
    assert get_user(idp, sp.id, "dis")["Enabled"] is False


def test_revoke_token(idp, unsigned_idp, sp):
    user(idp, sp, "rex")
    t = tokens(unsigned_idp, sp.client, "rex")
    minted = refresh(unsigned_idp, sp.client, t["RefreshToken"])["AuthenticationResult"]
    other = tokens(unsigned_idp, sp.client, "rex")

    resp = unsigned_idp.revoke_token(Token=t["RefreshToken"], ClientId=sp.client.id)
    assert set(resp) == {"ResponseMetadata"}
    refresh_refused(unsigned_idp, sp.client, t["RefreshToken"])
    refused(unsigned_idp, t["AccessToken"])
    refused(unsigned_idp, minted["AccessToken"])
    # Only that lineage: another sign-in of the same user is untouched.
    assert unsigned_idp.get_user(AccessToken=other["AccessToken"])["Username"] == "rex"
    assert "AccessToken" in refresh(unsigned_idp, sp.client, other["RefreshToken"])["AuthenticationResult"]
    # Revoking again is harmless.
    unsigned_idp.revoke_token(Token=t["RefreshToken"], ClientId=sp.client.id)


def test_revoke_token_needs_a_refresh_token(idp, unsigned_idp, sp):
    user(idp, sp, "ria")
    t = tokens(unsigned_idp, sp.client, "ria")
    with aws_error("UnsupportedTokenTypeException"):
        unsigned_idp.revoke_token(Token=t["AccessToken"], ClientId=sp.client.id)
    assert unsigned_idp.get_user(AccessToken=t["AccessToken"])["Username"] == "ria"
    assert "AccessToken" in refresh(unsigned_idp, sp.client, t["RefreshToken"])["AuthenticationResult"]


def test_revoke_token_when_revocation_is_disabled(idp, unsigned_idp, sp):
    user(idp, sp, "noel")
    t = tokens(unsigned_idp, sp.no_revocation, "noel")
    with aws_error("UnsupportedOperationException"):
        unsigned_idp.revoke_token(Token=t["RefreshToken"], ClientId=sp.no_revocation.id)
    assert "AccessToken" in refresh(unsigned_idp, sp.no_revocation, t["RefreshToken"])["AuthenticationResult"]


def test_revoke_token_with_a_client_secret(idp, unsigned_idp, sp):
    user(idp, sp, "sue")
    t = tokens(unsigned_idp, sp.secret, "sue")
    unsigned_idp.revoke_token(Token=t["RefreshToken"], ClientId=sp.secret.id, ClientSecret=sp.secret.secret)
    with aws_error("NotAuthorizedException"):
        refresh(unsigned_idp, sp.secret, t["RefreshToken"], username="sue")
    refused(unsigned_idp, t["AccessToken"])


# ---------------------------------------------------------------------------------------------
# GetTokensFromRefreshToken and rotation
# ---------------------------------------------------------------------------------------------


def test_get_tokens_from_refresh_token(idp, unsigned_idp, sp):
    user(idp, sp, "gil")
    t = tokens(unsigned_idp, sp.client, "gil")
    result = unsigned_idp.get_tokens_from_refresh_token(
        RefreshToken=t["RefreshToken"], ClientId=sp.client.id
    )["AuthenticationResult"]
    assert unsigned_idp.get_user(AccessToken=result["AccessToken"])["Username"] == "gil"
    assert result["TokenType"] == "Bearer" and result["IdToken"]


def test_refresh_token_rotation(idp, unsigned_idp, sp):
    user(idp, sp, "rota")
    client = sp.rotating
    t0 = tokens(unsigned_idp, client, "rota")

    def rotate(rt):
        return unsigned_idp.get_tokens_from_refresh_token(RefreshToken=rt, ClientId=client.id)["AuthenticationResult"]

    r1 = rotate(t0["RefreshToken"])
    assert r1["RefreshToken"] and r1["RefreshToken"] != t0["RefreshToken"]
    assert unsigned_idp.get_user(AccessToken=r1["AccessToken"])["Username"] == "rota"
    # Within the grace period the old token still answers (a client retrying a lost response).
    rotate(t0["RefreshToken"])
    time.sleep(1.3)
    with aws_error("RefreshTokenReuseException"):
        rotate(t0["RefreshToken"])
    # A rotated-out token coming back is taken for a stolen one (RFC 9700 section 4.14.2): its
    # whole family ends, the newest refresh and access tokens included.
    with aws_error("NotAuthorizedException"):
        rotate(r1["RefreshToken"])
    with aws_error("NotAuthorizedException"):
        unsigned_idp.get_user(AccessToken=r1["AccessToken"])
    # A fresh sign-in starts a new family, which rotates again.
    t1 = tokens(unsigned_idp, client, "rota")
    r2 = rotate(t1["RefreshToken"])
    assert r2["RefreshToken"] not in (r1["RefreshToken"], t0["RefreshToken"], t1["RefreshToken"])
    assert unsigned_idp.get_user(AccessToken=r2["AccessToken"])["Username"] == "rota"
