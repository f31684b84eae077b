"""The JSON 1.1 wire protocol itself (reference sections 1.1, 1.2, 1.4), spoken with raw HTTP."""

from __future__ import annotations

import json
import socket
import threading

from support import (
    JSON_CONTENT_TYPE,
    MISSING_POOL_ID,
    NOT_FOUND_STATUSES,
    TARGET_PREFIX,
    UUID_RE,
    all_pool_names,
    aws_error,
    header_list,
    unique_name,
)

EXPOSED_HEADERS = {"x-amzn-requestid", "x-amzn-errortype", "x-amzn-errormessage", "date"}
PREFLIGHT_HEADERS = ["x-amz-target", "x-amz-user-agent", "content-type", "cache-control"]
ORIGIN = "http://localhost:3000"


def assert_json_error(resp, code: str | set[str], status: int | set[int] = 400) -> dict:
    """The Cognito error shape: status, JSON body {__type, message}, x-amzn-* headers."""
    codes = {code} if isinstance(code, str) else code
    statuses = {status} if isinstance(status, int) else status
    assert resp.status_code in statuses, f"HTTP {resp.status_code}: {resp.text[:500]!r}"
    assert resp.headers.get("Content-Type", "").startswith(JSON_CONTENT_TYPE)
    body = resp.json()
    assert body.get("__type") in codes, body
    assert isinstance(body.get("message"), str), body
    error_type = resp.headers.get("x-amzn-ErrorType", "")
    assert error_type.split(":")[0] == body["__type"], error_type
    assert error_type.endswith(":"), f"x-amzn-ErrorType should end with ':', got {error_type!r}"
    assert UUID_RE.match(resp.headers.get("x-amzn-RequestId", "").lower()), resp.headers
    return body


# ---------------------------------------------------------------------------------------------
# Health and successful calls
# ---------------------------------------------------------------------------------------------


def test_health_answers_200(wire):
    assert wire.get("/health").status_code == 200


def test_success_has_json_content_type_and_request_id(wire):
    resp = wire.call("ListUserPools", {"MaxResults": 1})
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("Content-Type", "").startswith(JSON_CONTENT_TYPE)
    assert UUID_RE.match(resp.headers.get("x-amzn-RequestId", "").lower()), resp.headers
    assert isinstance(resp.json().get("UserPools"), list)


def test_request_ids_are_unique(wire):
    ids = {wire.call("ListUserPools", {"MaxResults": 1}).headers.get("x-amzn-RequestId") for _ in range(3)}
    assert len(ids) == 3


def test_empty_output_is_an_empty_json_object(idp, wire):
    pool_id = idp.create_user_pool(PoolName=unique_name("empty-output"))["UserPool"]["Id"]
    resp = wire.call("DeleteUserPool", {"UserPoolId": pool_id})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {}


def test_timestamps_are_epoch_seconds_numbers(pool, wire):
    body = wire.call("DescribeUserPool", {"UserPoolId": pool.id}).json()["UserPool"]
    for key in ("CreationDate", "LastModifiedDate"):
        assert isinstance(body[key], (int, float)) and not isinstance(body[key], bool), body[key]
        assert 1.5e9 < body[key] < 1e11  # seconds, not milliseconds


def test_unknown_members_are_ignored(idp, wire):
    name = unique_name("unknown-member")
    resp = wire.call("CreateUserPool", {"PoolName": name, "SomeFutureMember": {"Nested": [1, 2]}})
    assert resp.status_code == 200, resp.text
    pool_id = resp.json()["UserPool"]["Id"]
    try:
        assert idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Name"] == name
    finally:
        idp.delete_user_pool(UserPoolId=pool_id)


# ---------------------------------------------------------------------------------------------
# Malformed requests: the error is well-formed and nothing changes
# ---------------------------------------------------------------------------------------------


def test_unknown_operation(wire):
    resp = wire.call("FrobnicateUserPool", {"UserPoolId": "us-east-1_aaaaaaaaa"})
    assert_json_error(resp, "UnknownOperationException")


def test_error_headers(wire):
    resp = wire.call("FrobnicateUserPool", {})
    body = assert_json_error(resp, "UnknownOperationException")
    assert resp.headers.get("x-amzn-ErrorType") == "UnknownOperationException:"
    # Reference 1.2 / 12.2: the message is mirrored in x-amzn-ErrorMessage.
    assert "x-amzn-ErrorMessage" in resp.headers
    assert set(body) >= {"__type", "message"}


def test_missing_target_header(idp, wire):
    name = unique_name("no-target")
    resp = wire.post({"PoolName": name}, target=None)
    # Unconfirmed for Cognito: accept either generic JSON-protocol code.
    assert_json_error(resp, {"UnknownOperationException", "SerializationException"})
    assert name not in all_pool_names(idp)


def test_malformed_json(idp, wire):
    name = unique_name("bad-json")
    resp = wire.call("CreateUserPool", b'{"PoolName": "' + name.encode() + b'", ')
    assert_json_error(resp, "SerializationException")
    assert name not in all_pool_names(idp)


def test_body_that_is_not_a_json_object(wire):
    resp = wire.call("ListUserPools", [{"MaxResults": 1}])
    # Unconfirmed which generic code AWS uses for a well-formed but mistyped document.
    assert_json_error(resp, {"SerializationException", "InvalidParameterException"})


def test_member_of_the_wrong_type(idp, wire):
    name = unique_name("wrong-type")
    resp = wire.call("CreateUserPool", {"PoolName": name, "Policies": "not-a-structure"})
    assert_json_error(resp, {"SerializationException", "InvalidParameterException"})
    assert name not in all_pool_names(idp)


def test_wrong_content_type(idp, wire):
    name = unique_name("wrong-content-type")
    resp = wire.call("CreateUserPool", {"PoolName": name}, content_type="text/plain")
    # Reference 1.2 (unconfirmed for Cognito): wrong content type -> a generic JSON-protocol error.
    assert_json_error(resp, {"SerializationException", "UnknownOperationException"})
    assert name not in all_pool_names(idp)


def test_missing_required_member(wire):
    resp = wire.call("DescribeUserPool", {})
    body = assert_json_error(resp, "InvalidParameterException")
    assert body["message"] == (
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_missing_required_member_changes_nothing(idp, pool, wire):
    resp = wire.call("CreateUserPoolClient", {"UserPoolId": pool.id})
    body = assert_json_error(resp, "InvalidParameterException")
    assert body["message"] == (
        "1 validation error detected: Value null at 'clientName' failed to satisfy constraint: "
        "Member must not be null"
    )
    assert idp.list_user_pool_clients(UserPoolId=pool.id, MaxResults=60)["UserPoolClients"] == []


def test_service_error_has_the_same_shape(wire):
    resp = wire.call("DescribeUserPool", {"UserPoolId": MISSING_POOL_ID})
    body = assert_json_error(resp, "ResourceNotFoundException", set(NOT_FOUND_STATUSES))
    assert body["message"]


def test_constraint_violation_names_the_member(idp):
    with aws_error("InvalidParameterException") as e:
        idp.describe_user_pool(UserPoolId="not a pool id!")
    message = e.value.response["Error"]["Message"]
    assert message.startswith("1 validation error detected"), message
    assert "userPoolId" in message, message


def test_integer_above_model_maximum(idp):
    # botocore checks only minimums client-side, so 61 reaches the server.
    with aws_error("InvalidParameterException") as e:
        idp.list_user_pools(MaxResults=61)
    assert "maxResults" in e.value.response["Error"]["Message"]


# ---------------------------------------------------------------------------------------------
# Request size bound
# ---------------------------------------------------------------------------------------------


def _raw_exchange(host: str, port: int, head: bytes, body: bytes, timeout: float = 30.0) -> int:
    """Send a request whose body the server may refuse to read; return the response status.

    The body is written from a thread while this thread reads, so a server that answers early
    and closes the connection (the usual way to refuse an oversized body) is handled.
    """
    sock = socket.create_connection((host, port), timeout=timeout)

    def send():
        try:
            sock.sendall(head + body)
        except OSError:
            pass  # the server answered and closed without reading everything: expected

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    data = b""
    try:
        while b"\r\n" not in data:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        sender.join(timeout=timeout)
    assert data.startswith(b"HTTP/1."), f"no HTTP response to an oversized body (got {data[:200]!r})"
    return int(data.split(b" ", 2)[1])


def test_oversized_body_is_refused_and_server_keeps_serving(idp, wire, server):
    name = unique_name("oversized")
    body = json.dumps({"PoolName": name, "Padding": "x" * (2 * 1024 * 1024)}).encode()
    headers = wire.signed_headers(
        body,
        {"Content-Type": JSON_CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + "CreateUserPool"},
    )
    head = "POST / HTTP/1.1\r\n"
    head += f"Host: {server.host}:{server.port}\r\n"
    for k, v in headers.items():
        if k.lower() not in ("host", "content-length"):
            head += f"{k}: {v}\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    status = _raw_exchange(server.host, server.port, head.encode(), body)
    assert 400 <= status < 500, f"a 2 MiB body should be refused with a 4xx, got {status}"
    assert wire.get("/health").status_code == 200
    assert name not in all_pool_names(idp)


# ---------------------------------------------------------------------------------------------
# CORS (browser SDKs)
# ---------------------------------------------------------------------------------------------


def test_cors_preflight(wire):
    resp = wire.options(
        "/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": ",".join(PREFLIGHT_HEADERS),
        },
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("Access-Control-Allow-Origin") == "*"
    allowed_headers = header_list(resp.headers.get("Access-Control-Allow-Headers"))
    assert "*" in allowed_headers or set(PREFLIGHT_HEADERS) <= allowed_headers, allowed_headers
    allowed_methods = header_list(resp.headers.get("Access-Control-Allow-Methods"))
    assert "*" in allowed_methods or "post" in allowed_methods, allowed_methods


def test_cors_headers_on_success(wire):
    resp = wire.call("ListUserPools", {"MaxResults": 1}, headers={"Origin": ORIGIN})
    assert resp.status_code == 200
    assert resp.headers.get("Access-Control-Allow-Origin") == "*"
    exposed = header_list(resp.headers.get("Access-Control-Expose-Headers"))
    assert "*" in exposed or EXPOSED_HEADERS <= exposed, exposed


def test_cors_headers_on_error(wire):
    resp = wire.call("FrobnicateUserPool", {}, headers={"Origin": ORIGIN})
    assert_json_error(resp, "UnknownOperationException")
    assert resp.headers.get("Access-Control-Allow-Origin") == "*"
    exposed = header_list(resp.headers.get("Access-Control-Expose-Headers"))
    assert "*" in exposed or EXPOSED_HEADERS <= exposed, exposed
