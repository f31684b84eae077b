"""Users through the admin API (reference 2.2, 2.5, 2.8, 2.10, 2.11, 2.13)."""

from __future__ import annotations

import datetime

import pytest

from support import (
    MISSING_POOL_ID,
    NOT_FOUND_STATUSES,
    OTHER_STRONG_PASSWORD,
    SIX_DIGITS_RE,
    STRONG_PASSWORD,
    UUID4_RE,
    all_users,
    attr_list,
    attrs,
    aws_error,
    create_user,
    get_user,
    satisfies_policy,
)

STRICT_POLICY = {
    "MinimumLength": 14,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}

CUSTOM_SCHEMA = [
    {"Name": "tier", "AttributeDataType": "String", "Mutable": True},
    {"Name": "born", "AttributeDataType": "String", "Mutable": False},
]


def to(pool_id: str, destination: str):
    """Outbox predicate: messages of a pool sent to a destination."""
    return lambda m: m.get("pool_id") == pool_id and m.get("destination") == destination


def usernames(idp, pool_id: str) -> list[str]:
    return sorted(u["Username"] for u in all_users(idp, pool_id))


# ---------------------------------------------------------------------------------------------
# AdminCreateUser
# ---------------------------------------------------------------------------------------------


def test_admin_create_user(idp, pool):
    user = idp.admin_create_user(
        UserPoolId=pool.id,
        Username="alice",
        UserAttributes=attr_list(email="alice@example.com", email_verified="true", given_name="Alice"),
        MessageAction="SUPPRESS",
    )["User"]
    assert user["Username"] == "alice"
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert user["Enabled"] is True
    assert isinstance(user["UserCreateDate"], datetime.datetime)
    assert isinstance(user["UserLastModifiedDate"], datetime.datetime)
    a = attrs(user)
    assert UUID4_RE.match(a["sub"]), a["sub"]
    assert a["email"] == "alice@example.com"
    assert a["email_verified"] == "true"
    assert a["given_name"] == "Alice"

    got = get_user(idp, pool.id, "alice")
    assert got["Username"] == "alice"
    assert got["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert got["Enabled"] is True
    assert attrs(got) == a


def test_subs_are_distinct(idp, pool):
    subs = {attrs(create_user(idp, pool.id, f"user-{i}"))["sub"] for i in range(3)}
    assert len(subs) == 3


def test_invitation_carries_a_policy_compliant_temporary_password(idp, make_pool, outbox):
    pool = make_pool(Policies={"PasswordPolicy": STRICT_POLICY})
    create_user(idp, pool.id, "invited", invite=True, email="invited@example.com", email_verified="true")
    [msg] = outbox.wait_for(to(pool.id, "invited@example.com"))
    assert msg["channel"] == "EMAIL"
    assert msg["username"] == "invited"
    assert msg.get("subject")
    temporary = msg["code"]
    assert temporary in msg["body"]
    assert satisfies_policy(temporary, STRICT_POLICY), temporary


def test_invitation_uses_the_given_temporary_password(idp, pool, outbox):
    idp.admin_create_user(
        UserPoolId=pool.id,
        Username="given-temp",
        TemporaryPassword="Temp0rary!Passw0rd",
        UserAttributes=attr_list(email="given@example.com", email_verified="true"),
        DesiredDeliveryMediums=["EMAIL"],
    )
    [msg] = outbox.wait_for(to(pool.id, "given@example.com"))
    assert msg["code"] == "Temp0rary!Passw0rd"
    assert "Temp0rary!Passw0rd" in msg["body"]


def test_temporary_password_must_satisfy_the_policy(idp, pool, outbox):
    with aws_error("InvalidPasswordException"):
        idp.admin_create_user(
            UserPoolId=pool.id,
            Username="weak-temp",
            TemporaryPassword="weak",
            UserAttributes=attr_list(email="weak@example.com"),
            DesiredDeliveryMediums=["EMAIL"],
        )
    assert usernames(idp, pool.id) == []
    assert outbox.matching(to(pool.id, "weak@example.com")) == []


def test_suppress_sends_nothing(idp, pool, outbox):
    create_user(idp, pool.id, "quiet", email="quiet@example.com", email_verified="true")
    # A later invitation in the same pool shows that messages are flowing.
    create_user(idp, pool.id, "sentinel", invite=True, email="sentinel@example.com", email_verified="true")
    outbox.wait_for(to(pool.id, "sentinel@example.com"))
    assert outbox.matching(to(pool.id, "quiet@example.com")) == []
    assert get_user(idp, pool.id, "quiet")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_resend_invitation(idp, pool, outbox):
    created = create_user(idp, pool.id, "again", invite=True, email="again@example.com", email_verified="true")
    outbox.wait_for(to(pool.id, "again@example.com"))
    resent = idp.admin_create_user(
        UserPoolId=pool.id, Username="again", MessageAction="RESEND", DesiredDeliveryMediums=["EMAIL"]
    )["User"]
    messages = outbox.wait_for(to(pool.id, "again@example.com"), count=2)
    assert len(messages) == 2
    assert messages[1]["code"] in messages[1]["body"]
    assert resent["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert attrs(resent)["sub"] == attrs(created)["sub"]
    assert usernames(idp, pool.id) == ["again"]


def test_resend_for_unknown_user(idp, pool, outbox):
    with aws_error("UserNotFoundException"):
        idp.admin_create_user(
            UserPoolId=pool.id,
            Username="nobody",
            MessageAction="RESEND",
            UserAttributes=attr_list(email="nobody@example.com"),
            DesiredDeliveryMediums=["EMAIL"],
        )
    assert usernames(idp, pool.id) == []
    assert outbox.matching(to(pool.id, "nobody@example.com")) == []


def test_resend_for_confirmed_user(idp, pool, outbox):
    create_user(idp, pool.id, "settled", email="settled@example.com", email_verified="true")
    idp.admin_set_user_password(UserPoolId=pool.id, Username="settled", Password=STRONG_PASSWORD, Permanent=True)
    before = get_user(idp, pool.id, "settled")
    with aws_error("UnsupportedUserStateException"):
        idp.admin_create_user(
            UserPoolId=pool.id, Username="settled", MessageAction="RESEND", DesiredDeliveryMediums=["EMAIL"]
        )
    assert get_user(idp, pool.id, "settled") == before
    assert outbox.matching(to(pool.id, "settled@example.com")) == []


def test_duplicate_username(idp, pool):
    create_user(idp, pool.id, "taken", email="first@example.com")
    before = get_user(idp, pool.id, "taken")
    with aws_error("UsernameExistsException"):
        create_user(idp, pool.id, "taken", email="second@example.com")
    assert get_user(idp, pool.id, "taken") == before
    assert usernames(idp, pool.id) == ["taken"]


def test_unknown_attribute_on_create(idp, make_pool):
    pool = make_pool(Schema=CUSTOM_SCHEMA)
    with aws_error("InvalidParameterException"):
        create_user(idp, pool.id, "odd", email="odd@example.com", custom__nope="x")
    assert usernames(idp, pool.id) == []


# ---------------------------------------------------------------------------------------------
# Username variants: email as username, case-insensitive pools, aliases
# ---------------------------------------------------------------------------------------------


def test_email_as_username(idp, make_pool):
    pool = make_pool(UsernameAttributes=["email"])
    user = idp.admin_create_user(
        UserPoolId=pool.id,
        Username="dana@example.com",
        UserAttributes=attr_list(email_verified="true"),
        MessageAction="SUPPRESS",
    )["User"]
    sub = attrs(user)["sub"]
    assert UUID4_RE.match(user["Username"]), user["Username"]
    assert user["Username"] == sub
    assert attrs(user)["email"] == "dana@example.com"

    by_email = get_user(idp, pool.id, "dana@example.com")
    assert by_email["Username"] == sub
    assert get_user(idp, pool.id, sub)["Username"] == sub

    with aws_error("UsernameExistsException"):
        idp.admin_create_user(UserPoolId=pool.id, Username="dana@example.com", MessageAction="SUPPRESS")
    with aws_error("InvalidParameterException"):
        idp.admin_create_user(UserPoolId=pool.id, Username="not-an-email", MessageAction="SUPPRESS")
    assert usernames(idp, pool.id) == [sub]


def test_case_insensitive_pool(idp, make_pool):
    pool = make_pool(UsernameConfiguration={"CaseSensitive": False})
    sub = attrs(create_user(idp, pool.id, "Erin"))["sub"]
    for spelling in ("erin", "ERIN", "Erin"):
        got = get_user(idp, pool.id, spelling)
        assert attrs(got)["sub"] == sub
        assert got["Username"].lower() == "erin"
    with aws_error("UsernameExistsException"):
        create_user(idp, pool.id, "eRIN")
    assert len(all_users(idp, pool.id)) == 1


def test_case_sensitive_pool_by_default(idp, pool):
    first = attrs(create_user(idp, pool.id, "Frank"))["sub"]
    with aws_error("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=pool.id, Username="frank")
    second = attrs(create_user(idp, pool.id, "frank"))["sub"]
    assert first != second
    assert usernames(idp, pool.id) == ["Frank", "frank"]


def test_admin_get_user_by_alias(idp, make_pool):
    pool = make_pool(AliasAttributes=["email", "preferred_username"])
    sub = attrs(
        create_user(
            idp, pool.id, "grace", email="grace@example.com", email_verified="true", preferred_username="gg"
        )
    )["sub"]
    for alias in ("grace@example.com", "gg"):
        got = get_user(idp, pool.id, alias)
        assert got["Username"] == "grace"
        assert attrs(got)["sub"] == sub


# ---------------------------------------------------------------------------------------------
# Delete, attributes, enable/disable
# ---------------------------------------------------------------------------------------------


def test_admin_delete_user(idp, pool):
    create_user(idp, pool.id, "keep")
    create_user(idp, pool.id, "gone")
    idp.admin_delete_user(UserPoolId=pool.id, Username="gone")
    with aws_error("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=pool.id, Username="gone")
    with aws_error("UserNotFoundException"):
        idp.admin_delete_user(UserPoolId=pool.id, Username="gone")
    assert usernames(idp, pool.id) == ["keep"]


def test_update_attributes(idp, make_pool):
    pool = make_pool(Schema=CUSTOM_SCHEMA)
    create_user(idp, pool.id, "hank", email="hank@example.com", custom__born="1990")
    before = get_user(idp, pool.id, "hank")
    idp.admin_update_user_attributes(
        UserPoolId=pool.id,
        Username="hank",
        UserAttributes=attr_list(custom__tier="gold", given_name="Hank", email_verified="true"),
    )
    after = get_user(idp, pool.id, "hank")
    a = attrs(after)
    assert a["custom:tier"] == "gold"
    assert a["given_name"] == "Hank"
    assert a["email_verified"] == "true"
    assert a["custom:born"] == "1990"
    assert a["sub"] == attrs(before)["sub"]
    assert after["UserLastModifiedDate"] >= before["UserLastModifiedDate"]


@pytest.mark.parametrize(
    "update",
    [
        {"custom__born": "2000"},
        {"sub": "00000000-0000-4000-8000-000000000000"},
        {"custom__nope": "x"},
        {"not_a_standard_attribute": "x"},
        {"given_name": "Changed", "custom__nope": "x"},
    ],
    ids=["immutable-custom", "sub", "unknown-custom", "unknown-standard", "valid-plus-unknown"],
)
def test_invalid_attribute_update_changes_nothing(idp, make_pool, update):
    pool = make_pool(Schema=CUSTOM_SCHEMA)
    create_user(idp, pool.id, "ivan", email="ivan@example.com", given_name="Ivan", custom__born="1990")
    before = get_user(idp, pool.id, "ivan")
    with aws_error("InvalidParameterException"):
        idp.admin_update_user_attributes(UserPoolId=pool.id, Username="ivan", UserAttributes=attr_list(**update))
    assert get_user(idp, pool.id, "ivan") == before


def test_delete_user_attributes(idp, make_pool):
    pool = make_pool(Schema=CUSTOM_SCHEMA)
    create_user(idp, pool.id, "judy", email="judy@example.com", given_name="Judy", custom__tier="gold")
    idp.admin_delete_user_attributes(UserPoolId=pool.id, Username="judy", UserAttributeNames=["custom:tier", "given_name"])
    a = attrs(get_user(idp, pool.id, "judy"))
    assert "custom:tier" not in a
    assert "given_name" not in a
    assert a["email"] == "judy@example.com"
    assert "sub" in a


def test_disable_and_enable(idp, pool):
    create_user(idp, pool.id, "kim")
    idp.admin_disable_user(UserPoolId=pool.id, Username="kim")
    disabled = get_user(idp, pool.id, "kim")
    assert disabled["Enabled"] is False
    assert disabled["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    idp.admin_enable_user(UserPoolId=pool.id, Username="kim")
    enabled = get_user(idp, pool.id, "kim")
    assert enabled["Enabled"] is True
    assert enabled["UserStatus"] == "FORCE_CHANGE_PASSWORD"


# ---------------------------------------------------------------------------------------------
# Passwords and confirmation
# ---------------------------------------------------------------------------------------------


def test_admin_set_user_password(idp, pool):
    create_user(idp, pool.id, "leo")
    idp.admin_set_user_password(UserPoolId=pool.id, Username="leo", Password=STRONG_PASSWORD, Permanent=True)
    assert get_user(idp, pool.id, "leo")["UserStatus"] == "CONFIRMED"
    idp.admin_set_user_password(UserPoolId=pool.id, Username="leo", Password=OTHER_STRONG_PASSWORD, Permanent=False)
    assert get_user(idp, pool.id, "leo")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


@pytest.mark.parametrize(
    "password",
    ["Sh0rt!", "nouppercase1!", "NOLOWERCASE1!", "NoDigitsHere!", "NoSymbols123"],
    ids=["too-short", "no-upper", "no-lower", "no-digit", "no-symbol"],
)
def test_weak_password_is_rejected(idp, pool, password):
    create_user(idp, pool.id, "mia")
    idp.admin_set_user_password(UserPoolId=pool.id, Username="mia", Password=STRONG_PASSWORD, Permanent=True)
    before = get_user(idp, pool.id, "mia")
    with aws_error("InvalidPasswordException"):
        idp.admin_set_user_password(UserPoolId=pool.id, Username="mia", Password=password, Permanent=True)
    assert get_user(idp, pool.id, "mia") == before


def test_admin_reset_user_password(idp, pool, outbox):
    create_user(idp, pool.id, "nina", email="nina@example.com", email_verified="true")
    idp.admin_set_user_password(UserPoolId=pool.id, Username="nina", Password=STRONG_PASSWORD, Permanent=True)
    idp.admin_reset_user_password(UserPoolId=pool.id, Username="nina")
    assert get_user(idp, pool.id, "nina")["UserStatus"] == "RESET_REQUIRED"
    [msg] = outbox.wait_for(to(pool.id, "nina@example.com"))
    assert msg["channel"] == "EMAIL"
    assert SIX_DIGITS_RE.match(msg["code"]), msg["code"]
    assert msg["code"] in msg["body"]


def test_admin_confirm_sign_up(idp, make_pool, unsigned_idp, outbox):
    pool = make_pool(AutoVerifiedAttributes=["email"])
    client_id = idp.create_user_pool_client(UserPoolId=pool.id, ClientName="web")["UserPoolClient"]["ClientId"]
    out = unsigned_idp.sign_up(
        ClientId=client_id,
        Username="olga",
        Password=STRONG_PASSWORD,
        UserAttributes=attr_list(email="olga@example.com"),
    )
    assert out["UserConfirmed"] is False
    assert UUID4_RE.match(out["UserSub"])
    assert out["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    assert out["CodeDeliveryDetails"]["AttributeName"] == "email"
    [msg] = outbox.wait_for(to(pool.id, "olga@example.com"))
    assert SIX_DIGITS_RE.match(msg["code"]), msg["code"]

    before = get_user(idp, pool.id, "olga")
    assert before["UserStatus"] == "UNCONFIRMED"
    assert attrs(before)["sub"] == out["UserSub"]

    idp.admin_confirm_sign_up(UserPoolId=pool.id, Username="olga")
    after = get_user(idp, pool.id, "olga")
    assert after["UserStatus"] == "CONFIRMED"
    # AdminConfirmSignUp confirms the account; it does not verify the email (reference 2.5).
    assert attrs(after).get("email_verified", "false") != "true"


# ---------------------------------------------------------------------------------------------
# Unknown user / unknown pool
# ---------------------------------------------------------------------------------------------

UNKNOWN_USER_CALLS = {
    "admin_get_user": {},
    "admin_delete_user": {},
    "admin_update_user_attributes": {"UserAttributes": attr_list(given_name="X")},
    "admin_delete_user_attributes": {"UserAttributeNames": ["given_name"]},
    "admin_disable_user": {},
    "admin_enable_user": {},
    "admin_set_user_password": {"Password": STRONG_PASSWORD, "Permanent": True},
    "admin_reset_user_password": {},
    "admin_confirm_sign_up": {},
}


@pytest.mark.parametrize("method", sorted(UNKNOWN_USER_CALLS))
def test_unknown_user(idp, pool, method):
    create_user(idp, pool.id, "somebody")
    with aws_error("UserNotFoundException"):
        getattr(idp, method)(UserPoolId=pool.id, Username="nobody", **UNKNOWN_USER_CALLS[method])
    assert usernames(idp, pool.id) == ["somebody"]


@pytest.mark.parametrize("method", ["admin_create_user", "admin_get_user"])
def test_unknown_pool(idp, method):
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        getattr(idp, method)(UserPoolId=MISSING_POOL_ID, Username="nobody")
