"""User pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool, ListUserPools,
AddCustomAttributes (reference 2.3, 3)."""

from __future__ import annotations

import datetime
import re

import pytest

from support import (
    delete_pool_quietly,
    MISSING_POOL_ID,
    NOT_FOUND_STATUSES,
    POOL_ID_RE,
    STANDARD_ATTRIBUTES,
    all_pool_ids,
    all_pool_names,
    attrs,
    aws_error,
    collect_pages,
    create_user,
    describe_pool,
    schema_by_name,
    unique_name,
)

DEFAULT_PASSWORD_POLICY = {
    "MinimumLength": 8,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
    "TemporaryPasswordValidityDays": 7,
}

CUSTOM_SCHEMA = [
    {
        "Name": "tier",
        "AttributeDataType": "String",
        "Mutable": True,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "16"},
    },
    {
        "Name": "score",
        "AttributeDataType": "Number",
        "Mutable": True,
        "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "100"},
    },
    {"Name": "joined", "AttributeDataType": "DateTime", "Mutable": True},
    {"Name": "vip", "AttributeDataType": "Boolean", "Mutable": True},
    {"Name": "born", "AttributeDataType": "String", "Mutable": False},
]


def subset(actual: dict, expected: dict) -> dict:
    return {k: actual.get(k) for k in expected}


# ---------------------------------------------------------------------------------------------
# Create / Describe
# ---------------------------------------------------------------------------------------------


def test_create_and_describe_with_full_configuration(idp, make_pool):
    policy = {
        "MinimumLength": 12,
        "RequireUppercase": True,
        "RequireLowercase": True,
        "RequireNumbers": False,
        "RequireSymbols": False,
        "TemporaryPasswordValidityDays": 3,
    }
    pool = make_pool(
        Policies={"PasswordPolicy": policy},
        Schema=CUSTOM_SCHEMA + [{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
        AutoVerifiedAttributes=["email"],
        UsernameAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        MfaConfiguration="OFF",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )
    described = describe_pool(idp, pool.id)
    for up in (pool.created, described):
        assert up["Id"] == pool.id
        assert up["Name"] == pool.name
        assert subset(up["Policies"]["PasswordPolicy"], policy) == policy
        assert up["AutoVerifiedAttributes"] == ["email"]
        assert up["UsernameAttributes"] == ["email"]
        assert not up.get("AliasAttributes")
        assert up["UsernameConfiguration"] == {"CaseSensitive": False}
        assert up["MfaConfiguration"] == "OFF"
        assert up["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True

    schema = schema_by_name(described)
    assert schema["email"]["Required"] is True
    tier = schema["custom:tier"]
    assert tier["AttributeDataType"] == "String"
    assert tier["Mutable"] is True
    assert tier["StringAttributeConstraints"] == {"MinLength": "1", "MaxLength": "16"}
    score = schema["custom:score"]
    assert score["AttributeDataType"] == "Number"
    assert score["NumberAttributeConstraints"] == {"MinValue": "0", "MaxValue": "100"}
    assert schema["custom:joined"]["AttributeDataType"] == "DateTime"
    assert schema["custom:vip"]["AttributeDataType"] == "Boolean"
    assert schema["custom:born"]["Mutable"] is False
    for name in ("tier", "score", "joined", "vip", "born"):
        assert name not in schema, "custom attributes are listed only with the custom: prefix"
        assert schema[f"custom:{name}"].get("Required", False) is False


def test_identifiers_and_arn(idp, make_pool):
    first, second = make_pool(), make_pool()
    assert POOL_ID_RE.match(first.id), first.id
    assert POOL_ID_RE.match(second.id), second.id
    assert first.id != second.id
    up = describe_pool(idp, first.id)
    assert re.fullmatch(rf"arn:aws:cognito-idp:us-east-1:[0-9]{{12}}:userpool/{re.escape(first.id)}", up["Arn"]), up[
        "Arn"
    ]
    assert first.arn == up["Arn"]
    # Same account for every pool.
    assert describe_pool(idp, second.id)["Arn"].split(":")[4] == up["Arn"].split(":")[4]
    assert isinstance(up["CreationDate"], datetime.datetime)
    assert isinstance(up["LastModifiedDate"], datetime.datetime)


def test_defaults(idp, pool):
    up = describe_pool(idp, pool.id)
    assert subset(up["Policies"]["PasswordPolicy"], DEFAULT_PASSWORD_POLICY) == DEFAULT_PASSWORD_POLICY
    assert up["MfaConfiguration"] == "OFF"
    assert up.get("DeletionProtection", "INACTIVE") == "INACTIVE"
    assert not up.get("AutoVerifiedAttributes")
    assert not up.get("UsernameAttributes")
    assert not up.get("AliasAttributes")
    # API default: case-sensitive usernames (reference 2.3).
    assert up.get("UsernameConfiguration", {"CaseSensitive": True})["CaseSensitive"] is True
    assert up.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly", False) is False
    assert up.get("EstimatedNumberOfUsers", 0) == 0

    schema = schema_by_name(up)
    assert STANDARD_ATTRIBUTES <= set(schema), STANDARD_ATTRIBUTES - set(schema)
    assert not [n for n in schema if n.startswith("custom:")]
    sub = schema["sub"]
    assert sub["AttributeDataType"] == "String"
    assert sub["Mutable"] is False
    assert sub["Required"] is True
    assert schema["email_verified"]["AttributeDataType"] == "Boolean"
    assert schema["phone_number_verified"]["AttributeDataType"] == "Boolean"
    assert schema["updated_at"]["AttributeDataType"] == "Number"


def test_username_and_alias_attributes_are_mutually_exclusive(idp):
    name = unique_name("both-username-and-alias")
    with aws_error("InvalidParameterException"):
        idp.create_user_pool(PoolName=name, UsernameAttributes=["email"], AliasAttributes=["preferred_username"])
    assert name not in all_pool_names(idp)


INVALID_CREATES = {
    "password-too-short-minimum": {"Policies": {"PasswordPolicy": {"MinimumLength": 5}}},
    "password-too-long-minimum": {"Policies": {"PasswordPolicy": {"MinimumLength": 100}}},
    "temporary-validity-over-365": {"Policies": {"PasswordPolicy": {"TemporaryPasswordValidityDays": 366}}},
    "alias-not-allowed": {"AliasAttributes": ["address"]},
    "username-attribute-not-allowed": {"UsernameAttributes": ["preferred_username"]},
    "auto-verify-not-allowed": {"AutoVerifiedAttributes": ["address"]},
    "custom-name-over-20": {"Schema": [{"Name": "a" * 21, "AttributeDataType": "String"}]},
    "mfa-on-without-sms": {"MfaConfiguration": "ON"},
    "email-message-without-code": {"EmailVerificationMessage": "Hello there, no code here"},
    "bad-pool-name": {"PoolName": "no/slashes!allowed"},
}


@pytest.mark.parametrize("case", sorted(INVALID_CREATES))
def test_invalid_create_changes_nothing(idp, lax_idp, case):
    kwargs = dict(INVALID_CREATES[case])
    name = kwargs.pop("PoolName", None) or unique_name(f"invalid-{case}")
    before = set(all_pool_ids(idp))
    with aws_error("InvalidParameterException"):
        lax_idp.create_user_pool(PoolName=name, **kwargs)
    after = set(all_pool_ids(idp))
    leaked = after - before
    for pool_id in leaked:  # keep the server clean even when the test fails
        delete_pool_quietly(idp, pool_id)
    assert not leaked
    assert name not in all_pool_names(idp)


# ---------------------------------------------------------------------------------------------
# Update: a full replacement of the mutable settings
# ---------------------------------------------------------------------------------------------


def test_update_resets_omitted_settings_to_defaults(idp, make_pool):
    pool = make_pool(
        Policies={"PasswordPolicy": {"MinimumLength": 14, "RequireSymbols": False, "TemporaryPasswordValidityDays": 2}},
        AutoVerifiedAttributes=["email"],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Schema=[{"Name": "tier", "AttributeDataType": "String", "Mutable": True}],
        AliasAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
    )
    before = describe_pool(idp, pool.id)

    idp.update_user_pool(UserPoolId=pool.id, MfaConfiguration="OFF")
    after = describe_pool(idp, pool.id)

    # Omitted on update -> back to the defaults.
    assert subset(after["Policies"]["PasswordPolicy"], DEFAULT_PASSWORD_POLICY) == DEFAULT_PASSWORD_POLICY
    assert not after.get("AutoVerifiedAttributes")
    assert after.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly", False) is False
    # Not updatable at all -> kept.
    for key in ("Id", "Name", "Arn", "CreationDate", "AliasAttributes", "UsernameConfiguration"):
        assert after.get(key) == before.get(key), key
    assert "custom:tier" in schema_by_name(after)
    assert after["LastModifiedDate"] >= before["LastModifiedDate"]


def test_update_applies_given_settings(idp, pool):
    policy = {
        "MinimumLength": 10,
        "RequireUppercase": False,
        "RequireLowercase": True,
        "RequireNumbers": True,
        "RequireSymbols": False,
        "TemporaryPasswordValidityDays": 5,
    }
    idp.update_user_pool(
        UserPoolId=pool.id,
        Policies={"PasswordPolicy": policy},
        AutoVerifiedAttributes=["email"],
        DeletionProtection="INACTIVE",
    )
    up = describe_pool(idp, pool.id)
    assert subset(up["Policies"]["PasswordPolicy"], policy) == policy
    assert up["AutoVerifiedAttributes"] == ["email"]


def test_invalid_update_changes_nothing(idp, lax_idp, make_pool):
    pool = make_pool(Policies={"PasswordPolicy": {"MinimumLength": 12}}, AutoVerifiedAttributes=["email"])
    before = describe_pool(idp, pool.id)
    with aws_error("InvalidParameterException"):
        lax_idp.update_user_pool(
            UserPoolId=pool.id,
            Policies={"PasswordPolicy": {"MinimumLength": 3}},
            AutoVerifiedAttributes=["email"],
        )
    assert describe_pool(idp, pool.id) == before


# ---------------------------------------------------------------------------------------------
# Delete
# ---------------------------------------------------------------------------------------------


def test_delete(idp):
    pool_id = idp.create_user_pool(PoolName=unique_name("to-delete"))["UserPool"]["Id"]
    idp.delete_user_pool(UserPoolId=pool_id)
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        idp.describe_user_pool(UserPoolId=pool_id)
    assert pool_id not in all_pool_ids(idp)
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        idp.delete_user_pool(UserPoolId=pool_id)


def test_deletion_protection(idp, make_pool):
    pool = make_pool(DeletionProtection="ACTIVE")
    create_user(idp, pool.id, "keeper")
    before = describe_pool(idp, pool.id)
    assert before["DeletionProtection"] == "ACTIVE"

    with aws_error("InvalidParameterException"):
        idp.delete_user_pool(UserPoolId=pool.id)
    assert describe_pool(idp, pool.id) == before
    assert pool.id in all_pool_ids(idp)
    assert idp.admin_get_user(UserPoolId=pool.id, Username="keeper")["Username"] == "keeper"

    idp.update_user_pool(UserPoolId=pool.id, DeletionProtection="INACTIVE")
    idp.delete_user_pool(UserPoolId=pool.id)
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        idp.describe_user_pool(UserPoolId=pool.id)


def test_deleting_a_pool_deletes_its_users(idp):
    pool_id = idp.create_user_pool(PoolName=unique_name("cascade"))["UserPool"]["Id"]
    create_user(idp, pool_id, "gone")
    idp.delete_user_pool(UserPoolId=pool_id)
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        idp.admin_get_user(UserPoolId=pool_id, Username="gone")


# ---------------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------------


def test_list_user_pools_pagination(idp, make_pool):
    prefix = unique_name("listing")
    mine = {make_pool(PoolName=f"{prefix}-{i}").id for i in range(5)}
    pools, sizes = collect_pages(idp.list_user_pools, "UserPools", "NextToken", MaxResults=2)
    ids = [p["Id"] for p in pools]
    assert len(ids) == len(set(ids)), "a pool was listed twice"
    assert mine <= set(ids)
    assert all(size <= 2 for size in sizes), sizes
    assert len(sizes) >= 3
    for p in pools:
        if p["Id"] in mine:
            assert p["Name"].startswith(prefix)
            assert isinstance(p["CreationDate"], datetime.datetime)


# ---------------------------------------------------------------------------------------------
# AddCustomAttributes
# ---------------------------------------------------------------------------------------------


def test_add_custom_attributes(idp, pool):
    before = schema_by_name(describe_pool(idp, pool.id))
    idp.add_custom_attributes(
        UserPoolId=pool.id,
        CustomAttributes=[
            {
                "Name": "x",
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "32"},
            }
        ],
    )
    after = schema_by_name(describe_pool(idp, pool.id))
    assert set(after) - set(before) == {"custom:x"}
    assert after["custom:x"]["AttributeDataType"] == "String"
    assert after["custom:x"]["StringAttributeConstraints"]["MaxLength"] == "32"
    # The new attribute is usable at once.
    user = create_user(idp, pool.id, "with-x", custom__x="hello")
    assert attrs(user)["custom:x"] == "hello"


def test_add_duplicate_custom_attribute_changes_nothing(idp, make_pool):
    pool = make_pool(Schema=[{"Name": "x", "AttributeDataType": "String", "Mutable": True}])
    before = describe_pool(idp, pool.id)["SchemaAttributes"]
    with aws_error("InvalidParameterException"):
        idp.add_custom_attributes(
            UserPoolId=pool.id, CustomAttributes=[{"Name": "x", "AttributeDataType": "Number"}]
        )
    with aws_error("InvalidParameterException"):
        # All or nothing: a new name next to a duplicate is not added either.
        idp.add_custom_attributes(
            UserPoolId=pool.id,
            CustomAttributes=[
                {"Name": "fresh", "AttributeDataType": "String"},
                {"Name": "x", "AttributeDataType": "String"},
            ],
        )
    assert describe_pool(idp, pool.id)["SchemaAttributes"] == before


# ---------------------------------------------------------------------------------------------
# Unknown pool
# ---------------------------------------------------------------------------------------------

UNKNOWN_POOL_CALLS = {
    "describe_user_pool": {},
    "update_user_pool": {"MfaConfiguration": "OFF"},
    "delete_user_pool": {},
    "add_custom_attributes": {"CustomAttributes": [{"Name": "x", "AttributeDataType": "String"}]},
}


@pytest.mark.parametrize("method", sorted(UNKNOWN_POOL_CALLS))
def test_unknown_pool(idp, method):
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        getattr(idp, method)(UserPoolId=MISSING_POOL_ID, **UNKNOWN_POOL_CALLS[method])
    assert MISSING_POOL_ID not in all_pool_ids(idp)
