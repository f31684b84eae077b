"""Plain helpers shared by the compat tests (fixtures live in conftest.py).

Everything here encodes Cognito's documented behaviour (../shared/reference/cognito-wire.md and
botocore's service model), never Portcullis internals.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Iterable

import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
TARGET_PREFIX = "AWSCognitoIdentityProviderService."
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

# Reference 1.2: every modeled client error comes back as 400. The status of cognito-idp
# ResourceNotFoundException is marked unconfirmed (newer smithy models say 404), and SigV4
# failures are documented as "400/403": accept either reading there.
NOT_FOUND_STATUSES = (400, 404)
AUTH_FAILURE_STATUSES = (400, 403)

POOL_ID_RE = re.compile(r"^us-east-1_[0-9A-Za-z]{9}$")
CLIENT_ID_RE = re.compile(r"^[a-z0-9]{26}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UUID4_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
SIX_DIGITS_RE = re.compile(r"^[0-9]{6}$")

# A well-formed pool id that no server will have generated (the suffix is fixed, not random).
MISSING_POOL_ID = "us-east-1_nOsUcHp0L"
# A well-formed app client id that no pool has.
MISSING_CLIENT_ID = "zzzzzzzzzzzzzzzzzzzzzzzzzz"

# Satisfies the default policy (8+, upper, lower, digit, symbol) and the stricter ones used here.
STRONG_PASSWORD = "Str0ng!Passw0rd#2026"
OTHER_STRONG_PASSWORD = "An0ther$Passw0rd%99"

# Reference 11.4: the symbols Cognito counts as special characters (space included).
PASSWORD_SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ")

DEFAULT_EXPLICIT_AUTH_FLOWS = {"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"}

STANDARD_ATTRIBUTES = {
    "sub", "name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
    "profile", "picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo",
    "locale", "phone_number", "phone_number_verified", "address", "updated_at",
}


def unique_name(prefix: str = "compat", max_prefix: int = 80) -> str:
    """A name that satisfies the pool/client/group name pattern [\\w\\s+=,.@-]+ and is unique."""
    clean = re.sub(r"[^\w+=,.@-]+", "-", prefix).strip("-") or "compat"
    return f"{clean[:max_prefix]}-{uuid.uuid4().hex[:10]}"


def error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


def http_status(exc: ClientError) -> int:
    return exc.response["ResponseMetadata"]["HTTPStatusCode"]


@contextmanager
def aws_error(code: str | Iterable[str], status: int | Iterable[int] | None = 400):
    """Expect the block to fail with a Cognito error.

    `code` is the exact error code (or a set of acceptable codes where the reference is
    unconfirmed); `status` the HTTP status (or a set of them; None skips the check).
    Yields pytest's ExceptionInfo so the test can look at the message.
    """
    codes = {code} if isinstance(code, str) else set(code)
    statuses = None if status is None else ({status} if isinstance(status, int) else set(status))
    with pytest.raises(ClientError) as excinfo:
        yield excinfo
    err = excinfo.value.response.get("Error", {})
    got = err.get("Code")
    assert got in codes, f"expected error {sorted(codes)}, got {got!r}: {err.get('Message')!r}"
    if statuses is not None:
        got_status = http_status(excinfo.value)
        assert got_status in statuses, f"{got}: expected HTTP {sorted(statuses)}, got {got_status}"


def strip_metadata(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def attrs(obj: dict | list) -> dict[str, str]:
    """Attributes of a UserType / AdminGetUser response / attribute list, as a dict."""
    if isinstance(obj, dict):
        obj = obj.get("Attributes", obj.get("UserAttributes", []))
    return {a["Name"]: a.get("Value") for a in obj}


def attr_list(**values: str) -> list[dict[str, str]]:
    """attr_list(email="a@b.c", custom__tier="gold") -> [{"Name": "email", ...}, {"Name": "custom:tier", ...}]"""
    return [{"Name": k.replace("__", ":"), "Value": v} for k, v in values.items()]


def collect_pages(
    call: Callable[..., dict],
    items_key: str,
    token_in: str,
    token_out: str | None = None,
    max_pages: int = 200,
    **kwargs: Any,
) -> tuple[list, list[int]]:
    """Follow a paginated list operation by hand. Returns (all items, size of each page)."""
    token_out = token_out or token_in
    items: list = []
    sizes: list[int] = []
    seen_tokens: set[str] = set()
    token = None
    for _ in range(max_pages):
        args = dict(kwargs)
        if token is not None:
            args[token_in] = token
        page = call(**args)
        batch = page.get(items_key, [])
        items.extend(batch)
        sizes.append(len(batch))
        token = page.get(token_out)
        if not token:
            return items, sizes
        assert token not in seen_tokens, f"pagination token repeated: {token!r}"
        seen_tokens.add(token)
    raise AssertionError(f"pagination did not end within {max_pages} pages")


def all_pool_ids(idp) -> list[str]:
    pools, _ = collect_pages(idp.list_user_pools, "UserPools", "NextToken", MaxResults=60)
    return [p["Id"] for p in pools]


def all_pool_names(idp) -> list[str]:
    pools, _ = collect_pages(idp.list_user_pools, "UserPools", "NextToken", MaxResults=60)
    return [p["Name"] for p in pools]


def all_users(idp, pool_id: str, **kwargs: Any) -> list[dict]:
    users, _ = collect_pages(
        idp.list_users, "Users", "PaginationToken", UserPoolId=pool_id, **kwargs
    )
    return users


def all_clients(idp, pool_id: str) -> list[dict]:
    clients, _ = collect_pages(
        idp.list_user_pool_clients, "UserPoolClients", "NextToken", UserPoolId=pool_id, MaxResults=60
    )
    return clients


def all_groups(idp, pool_id: str) -> list[dict]:
    groups, _ = collect_pages(idp.list_groups, "Groups", "NextToken", UserPoolId=pool_id, Limit=60)
    return groups


def describe_pool(idp, pool_id: str) -> dict:
    return idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]


def describe_client(idp, pool_id: str, client_id: str) -> dict:
    return idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]


def get_user(idp, pool_id: str, username: str) -> dict:
    return strip_metadata(idp.admin_get_user(UserPoolId=pool_id, Username=username))


def create_user(idp, pool_id: str, username: str, *, invite: bool = False, **attributes: str) -> dict:
    """AdminCreateUser with the given attributes (custom__x for custom:x). SUPPRESS unless invite."""
    kwargs: dict[str, Any] = {"UserPoolId": pool_id, "Username": username}
    if attributes:
        kwargs["UserAttributes"] = attr_list(**attributes)
    if invite:
        kwargs["DesiredDeliveryMediums"] = ["EMAIL"]
    else:
        kwargs["MessageAction"] = "SUPPRESS"
    return idp.admin_create_user(**kwargs)["User"]


def schema_by_name(pool: dict) -> dict[str, dict]:
    return {a["Name"]: a for a in pool.get("SchemaAttributes", [])}


def satisfies_policy(password: str, policy: dict) -> bool:
    if len(password) < policy.get("MinimumLength", 8):
        return False
    checks = [
        ("RequireUppercase", lambda c: "A" <= c <= "Z"),
        ("RequireLowercase", lambda c: "a" <= c <= "z"),
        ("RequireNumbers", lambda c: c.isdigit()),
        ("RequireSymbols", lambda c: c in PASSWORD_SYMBOLS),
    ]
    for key, pred in checks:
        if policy.get(key, True) and not any(pred(c) for c in password):
            return False
    return True


def header_list(value: str | None) -> set[str]:
    """A comma-separated header value as a set of lower-cased tokens."""
    if not value:
        return set()
    return {part.strip().lower() for part in value.split(",") if part.strip()}


def delete_pool_quietly(idp, pool_id: str) -> None:
    """Delete a pool whatever state a test left it in; a pool already gone is fine."""
    try:
        idp.delete_user_pool(UserPoolId=pool_id)
        return
    except ClientError as e:
        code = e.response["Error"]["Code"]
        if code == "ResourceNotFoundException":
            return
        if code != "InvalidParameterException":
            raise
    # Most likely deletion protection: lift it, then delete.
    idp.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
    idp.delete_user_pool(UserPoolId=pool_id)


class AwsCliError(Exception):
    def __init__(self, argv: list[str], returncode: int, stdout: str, stderr: str):
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr
        self.code = None
        marker = "An error occurred ("
        if marker in stderr:
            self.code = stderr.split(marker, 1)[1].split(")", 1)[0]
        super().__init__(f"aws exited {returncode}: {' '.join(argv)}\n{stderr}")
