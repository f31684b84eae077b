"""pycognito's high-level Cognito class against the server, unchanged: SRP sign-in, its own token
verification (JWKS at <endpoint>/<poolId>/.well-known/jwks.json, issuer <endpoint>/<poolId>),
refresh, registration, the new-password challenge, profile and password operations, sign-out.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from pycognito import Cognito
from pycognito.exceptions import TokenVerificationException

from signin_support import (
    confirmed_user,
    latest_code,
    make_client,
    temporary_pool,
    user_status,
    with_payload,
)
from support import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, attrs, aws_error, get_user

TEMPORARY = "Temp0rary!Pass"


@pytest.fixture(autouse=True)
def _no_jwks_override(monkeypatch):
    # pycognito takes the JWKS from this variable when set; the test must fetch it from the server.
    monkeypatch.delenv("COGNITO_JWKS", raising=False)


@pytest.fixture(scope="module")
def pc(idp):
    with temporary_pool(idp, "pycognito", AutoVerifiedAttributes=["email"]) as p:
        yield SimpleNamespace(
            id=p.id,
            client=make_client(idp, p.id),
            secret=make_client(idp, p.id, secret=True),
        )


@pytest.fixture
def cognito(server, pc):
    def make(username=None, client=None, **kwargs):
        client = client or pc.client
        return Cognito(
            pc.id,
            client.id,
            username=username,
            client_secret=client.secret,
            access_key=server.access_key_id,
            secret_key=server.secret_access_key,
            botocore_config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
            boto3_client_kwargs={"endpoint_url": server.endpoint},
            **kwargs,
        )

    return make


def user(idp, pc, name, **attributes):
    attributes.setdefault("email", f"{name}@example.com")
    attributes.setdefault("email_verified", "true")
    return confirmed_user(idp, pc.id, name, **attributes)


def test_authenticate_verifies_tokens(idp, pc, cognito):
    sub = attrs(user(idp, pc, "paula"))["sub"]
    u = cognito("paula")
    u.authenticate(password=STRONG_PASSWORD)
    # authenticate() verified both tokens against the server's JWKS before keeping them.
    assert u.id_claims["cognito:username"] == "paula"
    assert u.id_claims["sub"] == u.access_claims["sub"] == sub
    assert u.access_claims["client_id"] == pc.client.id
    assert u.refresh_token and u.token_type == "Bearer"
    u.verify_tokens()
    assert u.check_token(renew=False) is False


def test_wrong_password(idp, pc, cognito):
    user(idp, pc, "wrongpy")
    with aws_error("NotAuthorizedException"):
        cognito("wrongpy").authenticate(password=OTHER_STRONG_PASSWORD)
    assert user_status(idp, pc.id, "wrongpy") == "CONFIRMED"


def test_tampered_token_fails_pycognito_verification(idp, pc, cognito):
    user(idp, pc, "tampy")
    u = cognito("tampy")
    u.authenticate(password=STRONG_PASSWORD)
    forged = with_payload(u.access_token, username="someone-else")
    with pytest.raises(TokenVerificationException):
        u.verify_token(forged, "access_token", "access")


def test_get_user_and_update_profile(idp, pc, cognito):
    user(idp, pc, "gerda", given_name="Gerda")
    u = cognito("gerda")
    u.authenticate(password=STRONG_PASSWORD)
    obj = u.get_user()
    assert obj.given_name == "Gerda"
    assert obj.email == "gerda@example.com"
    assert obj.email_verified is True
    assert obj.sub == u.id_claims["sub"]

    u.update_profile({"given_name": "Greta", "family_name": "G"})
    obj = u.get_user()
    assert (obj.given_name, obj.family_name) == ("Greta", "G")
    assert attrs(get_user(idp, pc.id, "gerda"))["given_name"] == "Greta"


def test_send_and_validate_verification(idp, pc, cognito, outbox):
    user(idp, pc, "valerie", email_verified="false")
    u = cognito("valerie")
    u.authenticate(password=STRONG_PASSWORD)
    u.send_verification("email")
    code = latest_code(outbox, pc.id, "valerie@example.com")
    u.validate_verification(code, "email")
    assert attrs(get_user(idp, pc.id, "valerie"))["email_verified"] == "true"


def test_renew_access_token(idp, pc, cognito):
    user(idp, pc, "renata")
    u = cognito("renata")
    u.authenticate(password=STRONG_PASSWORD)
    old_access, old_refresh = u.access_token, u.refresh_token
    old_claims = dict(u.access_claims)
    u.renew_access_token()
    assert u.access_token != old_access
    assert u.refresh_token == old_refresh
    assert u.access_claims["origin_jti"] == old_claims["origin_jti"]
    assert u.access_claims["jti"] != old_claims["jti"]
    assert u.get_user().email == "renata@example.com"


def test_client_with_a_secret(idp, pc, cognito):
    user(idp, pc, "sybil")
    u = cognito("sybil", client=pc.secret)
    u.authenticate(password=STRONG_PASSWORD)
    assert u.access_claims["client_id"] == pc.secret.id
    u.renew_access_token()
    assert u.access_claims["client_id"] == pc.secret.id


def test_admin_authenticate(idp, pc, cognito):
    """pycognito's admin_authenticate sends the legacy ADMIN_NO_SRP_AUTH flow, which a client with
    ALLOW_ADMIN_USER_PASSWORD_AUTH accepts."""
    user(idp, pc, "adam")
    u = cognito("adam")
    u.admin_authenticate(password=STRONG_PASSWORD)
    assert u.id_claims["cognito:username"] == "adam"


def test_register_and_confirm(idp, pc, cognito, outbox):
    u = cognito()
    u.set_base_attributes(email="reggie@example.com", given_name="Reggie")
    resp = u.register("reggie", STRONG_PASSWORD)
    assert resp["UserConfirmed"] is False
    assert resp["CodeDeliveryDetails"]["Destination"] == "r***@e***"
    assert user_status(idp, pc.id, "reggie") == "UNCONFIRMED"

    code = latest_code(outbox, pc.id, "reggie@example.com")
    u.confirm_sign_up(code, username="reggie")
    assert user_status(idp, pc.id, "reggie") == "CONFIRMED"

    u = cognito("reggie")
    u.authenticate(password=STRONG_PASSWORD)
    assert u.id_claims["email_verified"] is True
    assert u.id_claims["given_name"] == "Reggie"


def test_new_password_challenge(idp, pc, cognito):
    idp.admin_create_user(
        UserPoolId=pc.id, Username="newton", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": "newton@example.com"}],
    )
    u = cognito("newton")
    # pycognito answers NEW_PASSWORD_REQUIRED with the SRP answers still in the map: extra keys.
    u.new_password_challenge(TEMPORARY, OTHER_STRONG_PASSWORD)
    assert u.id_claims["cognito:username"] == "newton"
    assert user_status(idp, pc.id, "newton") == "CONFIRMED"
    again = cognito("newton")
    again.authenticate(password=OTHER_STRONG_PASSWORD)


def test_change_password(idp, pc, cognito):
    user(idp, pc, "chad")
    u = cognito("chad")
    u.authenticate(password=STRONG_PASSWORD)
    u.change_password(STRONG_PASSWORD, OTHER_STRONG_PASSWORD)
    with aws_error("NotAuthorizedException"):
        cognito("chad").authenticate(password=STRONG_PASSWORD)
    cognito("chad").authenticate(password=OTHER_STRONG_PASSWORD)


def test_forgot_password(idp, pc, cognito, outbox):
    user(idp, pc, "felix")
    u = cognito("felix")
    u.initiate_forgot_password()
    code = latest_code(outbox, pc.id, "felix@example.com")
    u.confirm_forgot_password(code, OTHER_STRONG_PASSWORD)
    cognito("felix").authenticate(password=OTHER_STRONG_PASSWORD)


def test_logout(idp, pc, cognito):
    user(idp, pc, "lola")
    u = cognito("lola")
    u.authenticate(password=STRONG_PASSWORD)
    refresh_token, access_token = u.refresh_token, u.access_token
    u.logout()
    assert u.access_token is None
    u.refresh_token = refresh_token
    with pytest.raises(ClientError) as e:
        u.renew_access_token()
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
    u.access_token = access_token
    with pytest.raises(ClientError) as e:
        u.get_user()
    assert e.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_delete_user(idp, pc, cognito):
    user(idp, pc, "delia")
    u = cognito("delia")
    u.authenticate(password=STRONG_PASSWORD)
    u.delete_user()
    with aws_error("UserNotFoundException"):
        idp.admin_get_user(UserPoolId=pc.id, Username="delia")
