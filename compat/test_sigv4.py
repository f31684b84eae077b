"""Who may call what (reference 1.3): SigV4 on IAM-authorized operations, none on public ones."""

from __future__ import annotations

import json

import pytest

from support import (
    AUTH_FAILURE_STATUSES,
    MISSING_CLIENT_ID,
    NOT_FOUND_STATUSES,
    STRONG_PASSWORD,
    UUID_RE,
    all_pool_names,
    attrs,
    aws_error,
    get_user,
    unique_name,
)

WRONG_KEY_ID = "AKIAPORTCULLISNOBODY"


def test_signed_admin_call_succeeds(wire):
    resp = wire.call("ListUserPools", {"MaxResults": 5})
    assert resp.status_code == 200, resp.text


def test_admin_operation_unsigned_is_rejected(idp, unsigned_idp):
    name = unique_name("unsigned")
    with aws_error("MissingAuthenticationTokenException", AUTH_FAILURE_STATUSES):
        unsigned_idp.create_user_pool(PoolName=name)
    with aws_error("MissingAuthenticationTokenException", AUTH_FAILURE_STATUSES):
        unsigned_idp.list_user_pools(MaxResults=10)
    assert name not in all_pool_names(idp)


def test_unknown_access_key_is_rejected(idp, make_idp, server):
    stranger = make_idp(WRONG_KEY_ID, server.secret_access_key)
    name = unique_name("unknown-key")
    with aws_error("UnrecognizedClientException", AUTH_FAILURE_STATUSES):
        stranger.create_user_pool(PoolName=name)
    assert name not in all_pool_names(idp)


def test_wrong_secret_is_rejected(idp, make_idp, server):
    impostor = make_idp(server.access_key_id, server.secret_access_key + "x")
    name = unique_name("wrong-secret")
    with aws_error("InvalidSignatureException", AUTH_FAILURE_STATUSES):
        impostor.create_user_pool(PoolName=name)
    assert name not in all_pool_names(idp)


def test_signature_covers_the_body(idp, wire):
    signed_name, sent_name = unique_name("signed-body"), unique_name("sent-body")
    resp = wire.call(
        "CreateUserPool",
        {"PoolName": sent_name},
        sign_body=json.dumps({"PoolName": signed_name}).encode(),
    )
    assert resp.status_code in AUTH_FAILURE_STATUSES, resp.text
    assert resp.json()["__type"] == "InvalidSignatureException"
    names = all_pool_names(idp)
    assert signed_name not in names and sent_name not in names


def test_signature_from_a_wrong_key_on_raw_request(idp, wire):
    name = unique_name("raw-wrong-key")
    resp = wire.call("CreateUserPool", {"PoolName": name}, credentials=(WRONG_KEY_ID, "nope"))
    assert resp.status_code in AUTH_FAILURE_STATUSES, resp.text
    assert resp.json()["__type"] == "UnrecognizedClientException"
    assert name not in all_pool_names(idp)


# ---------------------------------------------------------------------------------------------
# Public (authtype none) operations are never rejected for their signature
# ---------------------------------------------------------------------------------------------

PUBLIC_CALLS = {
    "SignUp": ("sign_up", {"ClientId": MISSING_CLIENT_ID, "Username": "nobody", "Password": STRONG_PASSWORD}),
    "InitiateAuth": (
        "initiate_auth",
        {
            "ClientId": MISSING_CLIENT_ID,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "nobody", "PASSWORD": STRONG_PASSWORD},
        },
    ),
}


@pytest.mark.parametrize("operation", sorted(PUBLIC_CALLS))
def test_public_operation_unsigned(unsigned_idp, operation):
    method, kwargs = PUBLIC_CALLS[operation]
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        getattr(unsigned_idp, method)(**kwargs)


@pytest.mark.parametrize("operation", sorted(PUBLIC_CALLS))
def test_public_operation_through_client_with_wrong_credentials(make_idp, operation):
    client = make_idp(WRONG_KEY_ID, "wrong-secret")
    method, kwargs = PUBLIC_CALLS[operation]
    with aws_error("ResourceNotFoundException", NOT_FOUND_STATUSES):
        getattr(client, method)(**kwargs)


@pytest.mark.parametrize("operation", sorted(PUBLIC_CALLS))
def test_public_operation_with_a_bad_signature_attached(wire, operation):
    _, kwargs = PUBLIC_CALLS[operation]
    for credentials in [(WRONG_KEY_ID, "wrong-secret"), None]:
        # A bogus signature and a valid one must both be ignored, not checked.
        resp = wire.call(operation, kwargs, credentials=credentials)
        assert "Authorization" in resp.request.headers
        assert resp.status_code in NOT_FOUND_STATUSES, resp.text
        assert resp.json()["__type"] == "ResourceNotFoundException"


def test_sign_up_succeeds_despite_a_bad_signature(idp, pool, wire):
    client_id = idp.create_user_pool_client(UserPoolId=pool.id, ClientName="public")["UserPoolClient"][
        "ClientId"
    ]
    body = {
        "ClientId": client_id,
        "Username": "signed-by-a-stranger",
        "Password": STRONG_PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": "stranger@example.com"}],
    }
    resp = wire.call("SignUp", body, credentials=(WRONG_KEY_ID, "wrong-secret"))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["UserConfirmed"] is False
    assert UUID_RE.match(out["UserSub"])
    user = get_user(idp, pool.id, "signed-by-a-stranger")
    assert user["UserStatus"] == "UNCONFIRMED"
    assert attrs(user)["sub"] == out["UserSub"]
