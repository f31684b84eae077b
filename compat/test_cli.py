"""The AWS CLI v1 (awscli, from compat/.venv) against the server."""

from __future__ import annotations

import pytest

from support import (
    MISSING_CLIENT_ID,
    MISSING_POOL_ID,
    POOL_ID_RE,
    STRONG_PASSWORD,
    AwsCliError,
    delete_pool_quietly,
    unique_name,
)


def cli_pool_ids(aws_cli, page_size: int = 10) -> list[str]:
    """All pool ids through the CLI. In CLI v1, --max-results turns auto-pagination off, so
    follow NextToken by hand with --next-token."""
    ids: list[str] = []
    token = None
    for _ in range(200):
        args = ["list-user-pools", "--max-results", str(page_size)]
        if token:
            args += ["--next-token", token]
        page = aws_cli(*args)
        assert len(page["UserPools"]) <= page_size
        ids += [p["Id"] for p in page["UserPools"]]
        token = page.get("NextToken")
        if not token:
            return ids
    raise AssertionError("list-user-pools did not stop paginating")


def test_pool_and_user_lifecycle(aws_cli, idp):
    name = unique_name("cli")
    created = aws_cli("create-user-pool", "--pool-name", name)
    pool_id = created["UserPool"]["Id"]
    try:
        assert POOL_ID_RE.match(pool_id), pool_id
        assert created["UserPool"]["Name"] == name

        assert pool_id in cli_pool_ids(aws_cli)

        described = aws_cli("describe-user-pool", "--user-pool-id", pool_id)
        assert described["UserPool"]["Id"] == pool_id

        for username, email in (("alice", "alice@example.com"), ("bob", "bob@example.com")):
            user = aws_cli(
                "admin-create-user",
                "--user-pool-id", pool_id,
                "--username", username,
                "--user-attributes", f"Name=email,Value={email}",
                "--message-action", "SUPPRESS",
            )["User"]
            assert user["Username"] == username
            assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"

        users = aws_cli("list-users", "--user-pool-id", pool_id, "--filter", 'email ^= "a"')["Users"]
        assert [u["Username"] for u in users] == ["alice"]
        assert {"Name": "email", "Value": "alice@example.com"} in users[0]["Attributes"]

        # Same data through boto3.
        assert idp.admin_get_user(UserPoolId=pool_id, Username="bob")["UserStatus"] == "FORCE_CHANGE_PASSWORD"

        assert aws_cli("delete-user-pool", "--user-pool-id", pool_id) is None
        assert pool_id not in cli_pool_ids(aws_cli)
    finally:
        delete_pool_quietly(idp, pool_id)


def test_cli_paginates_list_user_pools(aws_cli, make_pool):
    prefix = unique_name("cli-pages")
    mine = {make_pool(PoolName=f"{prefix}-{i}").id for i in range(3)}
    ids = cli_pool_ids(aws_cli, page_size=1)
    assert len(ids) == len(set(ids))
    assert mine <= set(ids)


def test_cli_reports_service_errors(aws_cli):
    with pytest.raises(AwsCliError) as e:
        aws_cli("describe-user-pool", "--user-pool-id", MISSING_POOL_ID)
    assert e.value.code == "ResourceNotFoundException", e.value.stderr
    assert e.value.returncode != 0


def test_cli_public_operation(aws_cli):
    with pytest.raises(AwsCliError) as e:
        aws_cli(
            "sign-up",
            "--client-id", MISSING_CLIENT_ID,
            "--username", "nobody",
            "--password", STRONG_PASSWORD,
        )
    assert e.value.code == "ResourceNotFoundException", e.value.stderr
