"""Groups and membership (reference 2.14)."""

from __future__ import annotations

import datetime

import pytest

from support import (
    NOT_FOUND_STATUSES,
    all_groups,
    aws_error,
    collect_pages,
    create_user,
    strip_metadata,
)

ROLE_ARN = "arn:aws:iam::123456789012:role/PortcullisAdmins"
OTHER_ROLE_ARN = "arn:aws:iam::123456789012:role/PortcullisReaders"


def get_group(idp, pool_id: str, name: str) -> dict:
    return idp.get_group(UserPoolId=pool_id, GroupName=name)["Group"]


def group_names_for(idp, pool_id: str, username: str) -> list[str]:
    groups, _ = collect_pages(
        idp.admin_list_groups_for_user, "Groups", "NextToken", UserPoolId=pool_id, Username=username
    )
    return sorted(g["GroupName"] for g in groups)


def members_of(idp, pool_id: str, group: str) -> list[str]:
    users, _ = collect_pages(idp.list_users_in_group, "Users", "NextToken", UserPoolId=pool_id, GroupName=group)
    return sorted(u["Username"] for u in users)


def test_create_and_get(idp, pool):
    created = idp.create_group(
        UserPoolId=pool.id, GroupName="admins", Description="Administrators", RoleArn=ROLE_ARN, Precedence=1
    )["Group"]
    got = get_group(idp, pool.id, "admins")
    for g in (created, got):
        assert g["GroupName"] == "admins"
        assert g["UserPoolId"] == pool.id
        assert g["Description"] == "Administrators"
        assert g["RoleArn"] == ROLE_ARN
        assert g["Precedence"] == 1
        assert isinstance(g["CreationDate"], datetime.datetime)
        assert isinstance(g["LastModifiedDate"], datetime.datetime)


def test_minimal_group(idp, pool):
    created = idp.create_group(UserPoolId=pool.id, GroupName="plain")["Group"]
    assert created["GroupName"] == "plain"
    assert "RoleArn" not in created
    assert "Precedence" not in created


def test_duplicate_group(idp, pool):
    idp.create_group(UserPoolId=pool.id, GroupName="dup", Description="first", Precedence=3)
    before = get_group(idp, pool.id, "dup")
    with aws_error("GroupExistsException"):
        idp.create_group(UserPoolId=pool.id, GroupName="dup", Description="second", Precedence=9)
    assert get_group(idp, pool.id, "dup") == before
    assert [g["GroupName"] for g in all_groups(idp, pool.id)] == ["dup"]


def test_invalid_group_changes_nothing(idp, lax_idp, pool):
    with aws_error("InvalidParameterException"):
        idp.create_group(UserPoolId=pool.id, GroupName="bad-role", RoleArn="this-is-not-a-valid-arn-x")
    with aws_error("InvalidParameterException"):
        lax_idp.create_group(UserPoolId=pool.id, GroupName="bad-precedence", Precedence=-1)
    assert all_groups(idp, pool.id) == []


def test_update(idp, pool):
    idp.create_group(UserPoolId=pool.id, GroupName="editors", Description="old", RoleArn=ROLE_ARN, Precedence=1)
    before = get_group(idp, pool.id, "editors")
    updated = idp.update_group(
        UserPoolId=pool.id, GroupName="editors", Description="new", RoleArn=OTHER_ROLE_ARN, Precedence=5
    )["Group"]
    got = get_group(idp, pool.id, "editors")
    for g in (updated, got):
        assert g["Description"] == "new"
        assert g["RoleArn"] == OTHER_ROLE_ARN
        assert g["Precedence"] == 5
        assert g["CreationDate"] == before["CreationDate"]
        assert g["LastModifiedDate"] >= before["LastModifiedDate"]


def test_delete(idp, pool):
    idp.create_group(UserPoolId=pool.id, GroupName="keep")
    idp.create_group(UserPoolId=pool.id, GroupName="gone")
    idp.delete_group(UserPoolId=pool.id, GroupName="gone")
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        get_group(idp, pool.id, "gone")
    assert [g["GroupName"] for g in all_groups(idp, pool.id)] == ["keep"]


def test_list_groups_pagination(idp, pool):
    expected = {f"group-{i}" for i in range(5)}
    for name in expected:
        idp.create_group(UserPoolId=pool.id, GroupName=name)
    groups, sizes = collect_pages(idp.list_groups, "Groups", "NextToken", UserPoolId=pool.id, Limit=2)
    listed = [g["GroupName"] for g in groups]
    assert len(listed) == len(set(listed)), "a group was listed twice"
    assert set(listed) == expected
    assert all(size <= 2 for size in sizes), sizes
    assert len(sizes) >= 3


# ---------------------------------------------------------------------------------------------
# Membership
# ---------------------------------------------------------------------------------------------


def test_add_and_remove_member(idp, pool):
    create_user(idp, pool.id, "pat")
    idp.create_group(UserPoolId=pool.id, GroupName="staff", Precedence=2, RoleArn=ROLE_ARN)
    idp.admin_add_user_to_group(UserPoolId=pool.id, Username="pat", GroupName="staff")
    idp.admin_add_user_to_group(UserPoolId=pool.id, Username="pat", GroupName="staff")  # idempotent

    groups, _ = collect_pages(idp.admin_list_groups_for_user, "Groups", "NextToken", UserPoolId=pool.id, Username="pat")
    assert [g["GroupName"] for g in groups] == ["staff"]
    assert groups[0]["Precedence"] == 2
    assert groups[0]["RoleArn"] == ROLE_ARN
    assert members_of(idp, pool.id, "staff") == ["pat"]

    idp.admin_remove_user_from_group(UserPoolId=pool.id, Username="pat", GroupName="staff")
    assert group_names_for(idp, pool.id, "pat") == []
    assert members_of(idp, pool.id, "staff") == []
    assert get_group(idp, pool.id, "staff")["GroupName"] == "staff"


def test_membership_pagination(idp, pool):
    for name in ("g1", "g2", "g3"):
        idp.create_group(UserPoolId=pool.id, GroupName=name)
    for username in ("u1", "u2", "u3"):
        create_user(idp, pool.id, username)
        for group in ("g1", "g2", "g3"):
            idp.admin_add_user_to_group(UserPoolId=pool.id, Username=username, GroupName=group)

    groups, sizes = collect_pages(
        idp.admin_list_groups_for_user, "Groups", "NextToken", UserPoolId=pool.id, Username="u2", Limit=2
    )
    assert sorted(g["GroupName"] for g in groups) == ["g1", "g2", "g3"]
    assert all(size <= 2 for size in sizes), sizes

    users, sizes = collect_pages(
        idp.list_users_in_group, "Users", "NextToken", UserPoolId=pool.id, GroupName="g3", Limit=2
    )
    assert sorted(u["Username"] for u in users) == ["u1", "u2", "u3"]
    assert all(size <= 2 for size in sizes), sizes


def test_deleting_a_group_removes_memberships(idp, pool):
    create_user(idp, pool.id, "quinn")
    for name in ("first", "second"):
        idp.create_group(UserPoolId=pool.id, GroupName=name)
        idp.admin_add_user_to_group(UserPoolId=pool.id, Username="quinn", GroupName=name)
    idp.delete_group(UserPoolId=pool.id, GroupName="first")
    assert group_names_for(idp, pool.id, "quinn") == ["second"]
    # A new group with the old name starts empty.
    idp.create_group(UserPoolId=pool.id, GroupName="first")
    assert members_of(idp, pool.id, "first") == []


def test_deleting_a_user_removes_memberships(idp, pool):
    idp.create_group(UserPoolId=pool.id, GroupName="crew")
    for username in ("rita", "sam"):
        create_user(idp, pool.id, username)
        idp.admin_add_user_to_group(UserPoolId=pool.id, Username=username, GroupName="crew")
    idp.admin_delete_user(UserPoolId=pool.id, Username="rita")
    assert members_of(idp, pool.id, "crew") == ["sam"]


# ---------------------------------------------------------------------------------------------
# Unknown group / user
# ---------------------------------------------------------------------------------------------

UNKNOWN_GROUP_CALLS = {
    "get_group": {},
    "update_group": {"Description": "x"},
    "delete_group": {},
    "admin_add_user_to_group": {"Username": "member"},
    "admin_remove_user_from_group": {"Username": "member"},
    "list_users_in_group": {},
}


@pytest.mark.parametrize("method", sorted(UNKNOWN_GROUP_CALLS))
def test_unknown_group(idp, pool, method):
    create_user(idp, pool.id, "member")
    idp.create_group(UserPoolId=pool.id, GroupName="real")
    before = strip_metadata(idp.get_group(UserPoolId=pool.id, GroupName="real"))
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        getattr(idp, method)(UserPoolId=pool.id, GroupName="imaginary", **UNKNOWN_GROUP_CALLS[method])
    assert [g["GroupName"] for g in all_groups(idp, pool.id)] == ["real"]
    assert strip_metadata(idp.get_group(UserPoolId=pool.id, GroupName="real")) == before
    assert group_names_for(idp, pool.id, "member") == []


def test_add_unknown_user_to_group(idp, pool):
    idp.create_group(UserPoolId=pool.id, GroupName="lonely")
    with aws_error("UserNotFoundException"):
        idp.admin_add_user_to_group(UserPoolId=pool.id, Username="ghost", GroupName="lonely")
    assert members_of(idp, pool.id, "lonely") == []


def test_groups_of_unknown_user(idp, pool):
    with aws_error("UserNotFoundException"):
        idp.admin_list_groups_for_user(UserPoolId=pool.id, Username="ghost")
