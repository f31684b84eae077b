"""App clients: Create/Describe/Update/Delete/ListUserPoolClients (reference 2.4, 3)."""

from __future__ import annotations

import datetime
import re

import pytest

from support import (
    CLIENT_ID_RE,
    DEFAULT_EXPLICIT_AUTH_FLOWS,
    MISSING_CLIENT_ID,
    MISSING_POOL_ID,
    NOT_FOUND_STATUSES,
    all_clients,
    aws_error,
    collect_pages,
    describe_client,
)

UNIT_MINUTES = {"seconds": 1 / 60, "minutes": 1, "hours": 60, "days": 1440}
DEFAULT_UNITS = {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}
DEFAULT_MINUTES = {"AccessToken": 60, "IdToken": 60, "RefreshToken": 30 * 1440}


def effective_minutes(client: dict, token: str) -> float:
    """A token lifetime in minutes, reading absent values as Cognito's defaults."""
    value = client.get(f"{token}Validity")
    if value is None or (token == "RefreshToken" and value == 0):
        return DEFAULT_MINUTES[token]
    unit = client.get("TokenValidityUnits", {}).get(token, DEFAULT_UNITS[token])
    return value * UNIT_MINUTES[unit]


def create(idp, pool_id: str, name: str = "app", **kwargs) -> dict:
    return idp.create_user_pool_client(UserPoolId=pool_id, ClientName=name, **kwargs)["UserPoolClient"]


OAUTH_CODE_FLOW = {
    "AllowedOAuthFlows": ["code"],
    "AllowedOAuthScopes": ["openid", "email"],
    "AllowedOAuthFlowsUserPoolClient": True,
    "SupportedIdentityProviders": ["COGNITO"],
}


# ---------------------------------------------------------------------------------------------
# Create / Describe
# ---------------------------------------------------------------------------------------------


def test_create_with_generated_secret(idp, pool):
    created = create(idp, pool.id, "with-secret", GenerateSecret=True)
    assert CLIENT_ID_RE.match(created["ClientId"]), created["ClientId"]
    secret = created["ClientSecret"]
    assert re.fullmatch(r"[\w+]{24,64}", secret), secret
    assert created["UserPoolId"] == pool.id
    assert created["ClientName"] == "with-secret"
    assert isinstance(created["CreationDate"], datetime.datetime)

    described = describe_client(idp, pool.id, created["ClientId"])
    assert described["ClientId"] == created["ClientId"]
    assert described["ClientSecret"] == secret
    assert described["ClientName"] == "with-secret"

    listed = all_clients(idp, pool.id)
    assert [(c["ClientId"], c["ClientName"]) for c in listed] == [(created["ClientId"], "with-secret")]
    assert "ClientSecret" not in listed[0]


def test_create_without_secret(idp, pool):
    created = create(idp, pool.id, "public")
    assert CLIENT_ID_RE.match(created["ClientId"])
    assert "ClientSecret" not in created
    assert "ClientSecret" not in describe_client(idp, pool.id, created["ClientId"])


def test_create_with_given_secret(idp, pool):
    secret = "abcdefghijklmnopqrstuvwxyz0123456789"
    created = create(idp, pool.id, "custom-secret", ClientSecret=secret)
    assert created["ClientSecret"] == secret
    assert describe_client(idp, pool.id, created["ClientId"])["ClientSecret"] == secret


def test_client_ids_are_distinct(idp, pool):
    ids = {create(idp, pool.id, f"c{i}")["ClientId"] for i in range(5)}
    assert len(ids) == 5


def test_default_explicit_auth_flows(idp, pool):
    created = create(idp, pool.id)
    assert set(created.get("ExplicitAuthFlows", [])) == DEFAULT_EXPLICIT_AUTH_FLOWS
    described = describe_client(idp, pool.id, created["ClientId"])
    assert set(described.get("ExplicitAuthFlows", [])) == DEFAULT_EXPLICIT_AUTH_FLOWS


def test_explicit_auth_flows_are_kept(idp, pool):
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    created = create(idp, pool.id, ExplicitAuthFlows=flows)
    assert set(describe_client(idp, pool.id, created["ClientId"])["ExplicitAuthFlows"]) == set(flows)


@pytest.mark.parametrize(
    "flows",
    [
        ["ADMIN_NO_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ["USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ["ALLOW_NOT_A_FLOW", "ALLOW_REFRESH_TOKEN_AUTH"],
    ],
    ids=["legacy-admin-with-allow", "legacy-user-with-allow", "unknown-flow"],
)
def test_invalid_explicit_auth_flows_change_nothing(idp, pool, flows):
    with aws_error("InvalidParameterException"):
        create(idp, pool.id, ExplicitAuthFlows=flows)
    assert all_clients(idp, pool.id) == []


def test_token_validity_and_units(idp, pool):
    created = create(
        idp,
        pool.id,
        AccessTokenValidity=30,
        IdTokenValidity=2,
        RefreshTokenValidity=10,
        TokenValidityUnits={"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "days"},
    )
    described = describe_client(idp, pool.id, created["ClientId"])
    assert described["AccessTokenValidity"] == 30
    assert described["IdTokenValidity"] == 2
    assert described["RefreshTokenValidity"] == 10
    assert described["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "days"}


def test_token_validity_defaults(idp, pool):
    described = describe_client(idp, pool.id, create(idp, pool.id)["ClientId"])
    assert effective_minutes(described, "AccessToken") == 60
    assert effective_minutes(described, "IdToken") == 60
    assert effective_minutes(described, "RefreshToken") == 30 * 1440


INVALID_VALIDITY = {
    "access-under-5-minutes": {"AccessTokenValidity": 4, "TokenValidityUnits": {"AccessToken": "minutes"}},
    "access-over-1-day": {"AccessTokenValidity": 2, "TokenValidityUnits": {"AccessToken": "days"}},
    "id-over-1-day": {"IdTokenValidity": 25, "TokenValidityUnits": {"IdToken": "hours"}},
    "refresh-under-60-minutes": {"RefreshTokenValidity": 30, "TokenValidityUnits": {"RefreshToken": "minutes"}},
    "refresh-over-3650-days": {"RefreshTokenValidity": 3651, "TokenValidityUnits": {"RefreshToken": "days"}},
    "auth-session-over-15": {"AuthSessionValidity": 16},
}


@pytest.mark.parametrize("case", sorted(INVALID_VALIDITY))
def test_invalid_token_validity_changes_nothing(idp, pool, case):
    with aws_error("InvalidParameterException"):
        create(idp, pool.id, **INVALID_VALIDITY[case])
    assert all_clients(idp, pool.id) == []


# ---------------------------------------------------------------------------------------------
# Callback URLs and OAuth flows
# ---------------------------------------------------------------------------------------------


def test_acceptable_callback_urls(idp, pool):
    urls = [
        "http://localhost:3000/callback",
        "http://localhost/callback",
        "https://app.example.com/callback",
        "myapp://callback",
    ]
    created = create(
        idp, pool.id, CallbackURLs=urls, LogoutURLs=["http://localhost:3000/"], DefaultRedirectURI=urls[0], **OAUTH_CODE_FLOW
    )
    described = describe_client(idp, pool.id, created["ClientId"])
    assert set(described["CallbackURLs"]) == set(urls)
    assert described["LogoutURLs"] == ["http://localhost:3000/"]
    assert described["DefaultRedirectURI"] == urls[0]
    assert described["AllowedOAuthFlows"] == ["code"]
    assert set(described["AllowedOAuthScopes"]) == {"openid", "email"}
    assert described["AllowedOAuthFlowsUserPoolClient"] is True


@pytest.mark.parametrize(
    "url",
    ["http://example.com/callback", "https://example.com/callback#fragment", "/relative/callback"],
    ids=["plain-http-not-localhost", "fragment", "relative"],
)
def test_rejected_callback_urls_change_nothing(idp, pool, url):
    with aws_error("InvalidParameterException"):
        create(idp, pool.id, CallbackURLs=[url], **OAUTH_CODE_FLOW)
    assert all_clients(idp, pool.id) == []


# Reference 2.4: client_credentials must be the only AllowedOAuthFlow, needs a secret and takes only
# custom (resource-server) scopes. Custom scopes need CreateResourceServer, which is not part of the
# foundation, so every case below carries the openid scope (itself a violation) plus the rule it is
# named after; each case is rejected under any reading.
CLIENT_CREDENTIALS_VIOLATIONS = {
    "without-secret": {"GenerateSecret": False, "AllowedOAuthFlows": ["client_credentials"]},
    "with-code-flow": {"GenerateSecret": True, "AllowedOAuthFlows": ["client_credentials", "code"]},
    "with-implicit-flow": {"GenerateSecret": True, "AllowedOAuthFlows": ["client_credentials", "implicit"]},
    "with-openid-scope": {"GenerateSecret": True, "AllowedOAuthFlows": ["client_credentials"]},
}


@pytest.mark.parametrize("case", sorted(CLIENT_CREDENTIALS_VIOLATIONS))
def test_client_credentials_rules(idp, pool, case):
    kwargs = dict(CLIENT_CREDENTIALS_VIOLATIONS[case])
    kwargs.update(
        AllowedOAuthScopes=["openid"],
        AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"],
        CallbackURLs=["https://app.example.com/callback"],
    )
    if case == "with-openid-scope":
        # Observed from AWS: "InvalidOAuthFlowException: openid is not supported with
        # client_credentials flow" (terraform-provider-aws issue 4984).
        expected = {"InvalidOAuthFlowException"}
    else:
        # "bad flow combos => InvalidOAuthFlowException"; which check AWS applies first when a
        # request breaks two rules is not confirmed, so accept the plausible codes.
        expected = {"InvalidOAuthFlowException", "InvalidParameterException", "ScopeDoesNotExistException"}
    with aws_error(expected):
        create(idp, pool.id, **kwargs)
    assert all_clients(idp, pool.id) == []


# ---------------------------------------------------------------------------------------------
# Update: a full replacement
# ---------------------------------------------------------------------------------------------


def test_update_is_a_full_replacement(idp, pool):
    created = create(
        idp,
        pool.id,
        "original",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        CallbackURLs=["https://app.example.com/callback"],
        ReadAttributes=["email"],
        AccessTokenValidity=30,
        TokenValidityUnits={"AccessToken": "minutes"},
        **OAUTH_CODE_FLOW,
    )
    before = describe_client(idp, pool.id, created["ClientId"])
    idp.update_user_pool_client(
        UserPoolId=pool.id, ClientId=created["ClientId"], ClientName="renamed", PreventUserExistenceErrors="ENABLED"
    )
    after = describe_client(idp, pool.id, created["ClientId"])
    # Given: applied.
    assert after["ClientName"] == "renamed"
    assert after["PreventUserExistenceErrors"] == "ENABLED"
    # Identity and secret: kept.
    assert after["ClientId"] == created["ClientId"]
    assert after["ClientSecret"] == created["ClientSecret"]
    assert after["CreationDate"] == before["CreationDate"]
    # Omitted: back to defaults.
    assert not after.get("CallbackURLs")
    assert not after.get("AllowedOAuthFlows")
    assert not after.get("AllowedOAuthScopes")
    assert not after.get("AllowedOAuthFlowsUserPoolClient")
    assert set(after.get("ReadAttributes") or ["<all>"]) != {"email"}
    assert effective_minutes(after, "AccessToken") == 60
    assert set(after.get("ExplicitAuthFlows", [])) == DEFAULT_EXPLICIT_AUTH_FLOWS


def test_invalid_update_changes_nothing(idp, pool):
    created = create(idp, pool.id, "stable", ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    before = describe_client(idp, pool.id, created["ClientId"])
    with aws_error("InvalidParameterException"):
        idp.update_user_pool_client(
            UserPoolId=pool.id,
            ClientId=created["ClientId"],
            ClientName="stable",
            ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )
    with aws_error("InvalidParameterException"):
        idp.update_user_pool_client(
            UserPoolId=pool.id,
            ClientId=created["ClientId"],
            ClientName="stable",
            CallbackURLs=["http://example.com/callback"],
            **OAUTH_CODE_FLOW,
        )
    assert describe_client(idp, pool.id, created["ClientId"]) == before


# ---------------------------------------------------------------------------------------------
# Delete, list, unknown
# ---------------------------------------------------------------------------------------------


def test_delete(idp, pool):
    keep = create(idp, pool.id, "keep")["ClientId"]
    gone = create(idp, pool.id, "gone")["ClientId"]
    idp.delete_user_pool_client(UserPoolId=pool.id, ClientId=gone)
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        describe_client(idp, pool.id, gone)
    assert [c["ClientId"] for c in all_clients(idp, pool.id)] == [keep]
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        idp.delete_user_pool_client(UserPoolId=pool.id, ClientId=gone)


def test_list_pagination(idp, pool):
    mine = {create(idp, pool.id, f"client-{i}")["ClientId"] for i in range(5)}
    clients, sizes = collect_pages(
        idp.list_user_pool_clients, "UserPoolClients", "NextToken", UserPoolId=pool.id, MaxResults=2
    )
    ids = [c["ClientId"] for c in clients]
    assert len(ids) == len(set(ids)), "a client was listed twice"
    assert set(ids) == mine
    assert all(size <= 2 for size in sizes), sizes
    for c in clients:
        assert c["UserPoolId"] == pool.id
        assert c["ClientName"].startswith("client-")


def test_clients_belong_to_their_pool(idp, make_pool):
    first, second = make_pool(), make_pool()
    client_id = create(idp, first.id)["ClientId"]
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        describe_client(idp, second.id, client_id)
    assert all_clients(idp, second.id) == []


UNKNOWN_CLIENT_CALLS = {
    "describe_user_pool_client": {},
    "update_user_pool_client": {"ClientName": "x"},
    "delete_user_pool_client": {},
}


@pytest.mark.parametrize("method", sorted(UNKNOWN_CLIENT_CALLS))
def test_unknown_client(idp, pool, method):
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        getattr(idp, method)(UserPoolId=pool.id, ClientId=MISSING_CLIENT_ID, **UNKNOWN_CLIENT_CALLS[method])
    assert all_clients(idp, pool.id) == []


def test_create_in_unknown_pool(idp):
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        idp.create_user_pool_client(UserPoolId=MISSING_POOL_ID, ClientName="orphan")
