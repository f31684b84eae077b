"""TagResource / UntagResource / ListTagsForResource on user-pool ARNs."""

from __future__ import annotations

import pytest

from support import MISSING_POOL_ID, NOT_FOUND_STATUSES, aws_error, describe_pool


def tags_of(idp, arn: str) -> dict:
    return idp.list_tags_for_resource(ResourceArn=arn).get("Tags", {})


def test_tags_given_at_creation(idp, make_pool):
    pool = make_pool(UserPoolTags={"env": "test", "owner": "identity"})
    assert tags_of(idp, pool.arn) == {"env": "test", "owner": "identity"}
    assert describe_pool(idp, pool.id)["UserPoolTags"] == {"env": "test", "owner": "identity"}


def test_tag_and_untag(idp, pool):
    assert tags_of(idp, pool.arn) == {}
    idp.tag_resource(ResourceArn=pool.arn, Tags={"env": "test", "team": "identity"})
    assert tags_of(idp, pool.arn) == {"env": "test", "team": "identity"}
    idp.tag_resource(ResourceArn=pool.arn, Tags={"env": "prod"})  # overwrite one, keep the rest
    assert tags_of(idp, pool.arn) == {"env": "prod", "team": "identity"}
    assert describe_pool(idp, pool.id).get("UserPoolTags") == {"env": "prod", "team": "identity"}
    idp.untag_resource(ResourceArn=pool.arn, TagKeys=["env"])
    assert tags_of(idp, pool.arn) == {"team": "identity"}


def test_tags_are_per_pool(idp, make_pool):
    first, second = make_pool(), make_pool()
    idp.tag_resource(ResourceArn=first.arn, Tags={"only": "first"})
    assert tags_of(idp, second.arn) == {}


UNKNOWN_ARN_CALLS = {
    "list_tags_for_resource": {},
    "tag_resource": {"Tags": {"env": "test"}},
    "untag_resource": {"TagKeys": ["env"]},
}


@pytest.mark.parametrize("method", sorted(UNKNOWN_ARN_CALLS))
def test_unknown_arn(idp, make_pool, method):
    real = make_pool(UserPoolTags={"env": "real"})
    account = real.arn.split(":")[4]
    missing_arn = f"arn:aws:cognito-idp:us-east-1:{account}:userpool/{MISSING_POOL_ID}"
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        getattr(idp, method)(ResourceArn=missing_arn, **UNKNOWN_ARN_CALLS[method])
    assert tags_of(idp, real.arn) == {"env": "real"}


def test_deleted_pool_arn(idp, make_pool):
    pool = make_pool(UserPoolTags={"env": "test"})
    idp.delete_user_pool(UserPoolId=pool.id)
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        idp.list_tags_for_resource(ResourceArn=pool.arn)
