"""ListUsers: filter grammar, AttributesToGet, pagination (reference 2.9)."""

from __future__ import annotations

import pytest

from support import (
    MISSING_POOL_ID,
    NOT_FOUND_STATUSES,
    STRONG_PASSWORD,
    all_users,
    attrs,
    aws_error,
    collect_pages,
    create_user,
    delete_pool_quietly,
    unique_name,
)


@pytest.fixture(scope="module")
def people(idp):
    """One pool with four users, shared by the read-only filter tests of this module.

    alice   FORCE_CHANGE_PASSWORD, enabled   email alice@example.com, given_name Alice, phone +15555550100
    alfred  CONFIRMED, enabled               email alfred@example.org, given_name Alfred
    bob     FORCE_CHANGE_PASSWORD, disabled  email bob@example.com, given_name Bob
    carol   FORCE_CHANGE_PASSWORD, enabled   phone +15555550199, preferred_username caz, custom:tier gold
    """
    pool_id = idp.create_user_pool(
        PoolName=unique_name("list-users"),
        Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    try:
        create_user(idp, pool_id, "alice", email="alice@example.com", given_name="Alice", phone_number="+15555550100")
        create_user(idp, pool_id, "alfred", email="alfred@example.org", given_name="Alfred")
        idp.admin_set_user_password(UserPoolId=pool_id, Username="alfred", Password=STRONG_PASSWORD, Permanent=True)
        create_user(idp, pool_id, "bob", email="bob@example.com", given_name="Bob")
        idp.admin_disable_user(UserPoolId=pool_id, Username="bob")
        create_user(idp, pool_id, "carol", phone_number="+15555550199", preferred_username="caz", custom__tier="gold")
        subs = {u["Username"]: attrs(u)["sub"] for u in all_users(idp, pool_id)}
        yield {"pool_id": pool_id, "subs": subs}
    finally:
        delete_pool_quietly(idp, pool_id)


def names(idp, pool_id: str, filter_: str | None = None, **kwargs) -> set[str]:
    if filter_ is not None:
        kwargs["Filter"] = filter_
    return {u["Username"] for u in all_users(idp, pool_id, **kwargs)}


EVERYONE = {"alice", "alfred", "bob", "carol"}

FILTERS = [
    ('email = "alice@example.com"', {"alice"}),
    ('email ^= "al"', {"alice", "alfred"}),
    ('email="alice@example.com"', {"alice"}),
    ('email = "nobody@example.com"', set()),
    ('username = "bob"', {"bob"}),
    ('username ^= "al"', {"alice", "alfred"}),
    ('username = "Bob"', set()),  # username filtering is case-sensitive
    ('cognito:user_status = "FORCE_CHANGE_PASSWORD"', {"alice", "bob", "carol"}),
    ('cognito:user_status = "CONFIRMED"', {"alfred"}),
    ('cognito:user_status = "force_change_password"', {"alice", "bob", "carol"}),  # case-insensitive
    ('status = "Enabled"', {"alice", "alfred", "carol"}),
    ('status = "Disabled"', {"bob"}),
    ('given_name = "Alice"', {"alice"}),
    ('given_name ^= "Al"', {"alice", "alfred"}),
    ('phone_number = "+15555550100"', {"alice"}),
    ('phone_number ^= "+1555555"', {"alice", "carol"}),
    ('preferred_username = "caz"', {"carol"}),
    ("", EVERYONE),
]


@pytest.mark.parametrize("filter_,expected", FILTERS, ids=[f or "<empty>" for f, _ in FILTERS])
def test_filter(idp, people, filter_, expected):
    assert names(idp, people["pool_id"], filter_) == expected


def test_filter_by_sub(idp, people):
    sub = people["subs"]["carol"]
    assert names(idp, people["pool_id"], f'sub = "{sub}"') == {"carol"}


def test_no_filter_lists_everyone_with_full_user_records(idp, people):
    users = all_users(idp, people["pool_id"])
    assert {u["Username"] for u in users} == EVERYONE
    by_name = {u["Username"]: u for u in users}
    assert by_name["bob"]["Enabled"] is False
    assert by_name["alfred"]["UserStatus"] == "CONFIRMED"
    assert attrs(by_name["carol"])["custom:tier"] == "gold"
    for u in users:
        assert "sub" in attrs(u)
        assert "UserCreateDate" in u and "UserLastModifiedDate" in u


@pytest.mark.parametrize(
    "filter_",
    [
        "email = alice@example.com",
        'email == "alice@example.com"',
        'email ~ "alice"',
        "email",
        '= "alice@example.com"',
        'email = "alice@example.com" and given_name = "Alice"',
        'nickname = "x"',
    ],
    ids=["unquoted", "double-equals", "unknown-operator", "no-operator", "no-attribute", "two-conditions", "not-filterable"],
)
def test_malformed_filter(idp, people, filter_):
    with aws_error("InvalidParameterException"):
        idp.list_users(UserPoolId=people["pool_id"], Filter=filter_)
    assert names(idp, people["pool_id"]) == EVERYONE


def test_custom_attributes_are_not_filterable(idp, people):
    with aws_error("InvalidParameterException"):
        idp.list_users(UserPoolId=people["pool_id"], Filter='custom:tier = "gold"')


def test_attributes_to_get(idp, people):
    users = all_users(idp, people["pool_id"], Filter='email ^= "al"', AttributesToGet=["email"])
    assert {u["Username"] for u in users} == {"alice", "alfred"}
    for u in users:
        assert set(attrs(u)) == {"email"}, u
    users = all_users(idp, people["pool_id"], Filter='email ^= "al"', AttributesToGet=["email", "given_name"])
    assert {u["Username"]: attrs(u) for u in users} == {
        "alice": {"email": "alice@example.com", "given_name": "Alice"},
        "alfred": {"email": "alfred@example.org", "given_name": "Alfred"},
    }


def test_limit_above_60(idp, people):
    # botocore checks only minimums client-side, so 61 reaches the server.
    with aws_error("InvalidParameterException"):
        idp.list_users(UserPoolId=people["pool_id"], Limit=61)


def test_unknown_pool(idp):
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        idp.list_users(UserPoolId=MISSING_POOL_ID)


# ---------------------------------------------------------------------------------------------
# Pagination (its own pool)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def crowd(idp, pool):
    expected = {f"user-{i:02d}" for i in range(25)}
    for username in sorted(expected):
        create_user(idp, pool.id, username, email=f"{username}@example.com")
    return pool, expected


def test_pagination(idp, crowd):
    pool, expected = crowd
    users, sizes = collect_pages(idp.list_users, "Users", "PaginationToken", UserPoolId=pool.id, Limit=10)
    listed = [u["Username"] for u in users]
    assert len(listed) == len(set(listed)), "a user was listed twice"
    assert set(listed) == expected
    assert all(size <= 10 for size in sizes), sizes
    assert len(sizes) >= 3


def test_pagination_with_a_filter(idp, crowd):
    pool, _ = crowd
    users, sizes = collect_pages(
        idp.list_users, "Users", "PaginationToken", UserPoolId=pool.id, Limit=4, Filter='username ^= "user-1"'
    )
    listed = [u["Username"] for u in users]
    assert len(listed) == len(set(listed))
    assert set(listed) == {f"user-1{i}" for i in range(10)}
    assert all(size <= 4 for size in sizes), sizes


def test_boto3_paginator(idp, crowd):
    pool, expected = crowd
    pages = idp.get_paginator("list_users").paginate(UserPoolId=pool.id, PaginationConfig={"PageSize": 7})
    listed = [u["Username"] for page in pages for u in page["Users"]]
    assert sorted(listed) == sorted(expected)
