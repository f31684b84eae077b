"""Fixtures for the compat suite: real boto3 / awscli against a running Portcullis release build.

The suite builds nothing (the Makefile does). One server is started for the whole session:

    target/release/portcullis serve --listen 127.0.0.1:<free port> --data-dir <tmp dir>

with PORTCULLIS_ROOT_ACCESS_KEY_ID / PORTCULLIS_ROOT_SECRET_ACCESS_KEY set to the test keys below.

Environment:
    PORTCULLIS_BIN                   binary to run (default: $CARGO_TARGET_DIR or ./target, /release/portcullis)
    PORTCULLIS_COMPAT_DATABASE_URL   optional --database-url (e.g. postgres://...); default SQLite in the data dir

Fixture API:
    server        session: .endpoint ("http://127.0.0.1:<port>"), .data_dir (Path), .access_key_id,
                  .secret_access_key, .region, .outbox_path, .stderr_text()
    idp           session: boto3 cognito-idp client, signed with the root credentials, no retries
    lax_idp       session: the same without botocore's client-side parameter validation
    unsigned_idp  session: boto3 cognito-idp client that never signs (botocore UNSIGNED)
    make_idp      session: make_idp(access_key_id, secret_access_key) -> client with other credentials
    wire          session: raw HTTP (requests) for protocol tests: wire.call(op, body, ...),
                  wire.post(...), wire.get(path), wire.signed_headers(body, ...)
    outbox        session: outbox() -> list of dicts (one per line of <data_dir>/outbox.jsonl);
                  outbox.wait_for(predicate, count=1, timeout=10) -> matching messages
    aws_cli       session: aws_cli(*args) runs `aws cognito-idp <args> --endpoint-url ... --region us-east-1
                  --output json` with the root credentials; returns parsed JSON (None for empty
                  output) or raises AwsCliError (.returncode, .stderr, .code)
    make_pool     function: make_pool(**CreateUserPool kwargs) -> Pool(id, arn, name, created);
                  every pool made is deleted afterwards (deletion protection lifted first)
    pool          function: a fresh pool with default settings and a unique name
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from support import (
    JSON_CONTENT_TYPE,
    REGION,
    TARGET_PREFIX,
    AwsCliError,
    delete_pool_quietly,
    unique_name,
)

COMPAT_DIR = Path(__file__).resolve().parent
REPO_ROOT = COMPAT_DIR.parent

ROOT_ACCESS_KEY_ID = "AKIAPORTCULLISCOMPAT1"
ROOT_SECRET_ACCESS_KEY = "compat+Secret/Key0123456789abcdefghijklmnop"

STARTUP_TIMEOUT_S = 30
SHUTDOWN_TIMEOUT_S = 10


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


def _binary_path() -> Path:
    override = os.environ.get("PORTCULLIS_BIN")
    if override:
        return Path(override).resolve()
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "release" / "portcullis"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, limit: int = 8000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no output>"
    return text[-limit:] if len(text) > limit else text


@dataclass
class Server:
    endpoint: str
    host: str
    port: int
    data_dir: Path
    access_key_id: str
    secret_access_key: str
    region: str
    process: subprocess.Popen
    stdout_path: Path
    stderr_path: Path
    argv: list[str] = field(default_factory=list)

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.jsonl"

    def stderr_text(self) -> str:
        return _tail(self.stderr_path)

    def describe_exit(self) -> str:
        return (
            f"command: {' '.join(self.argv)}\n"
            f"--- stderr (tail) ---\n{self.stderr_text()}\n"
            f"--- stdout (tail) ---\n{_tail(self.stdout_path, 2000)}"
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    binary = _binary_path()
    if not binary.exists():
        pytest.fail(
            f"Portcullis binary not found at {binary}. Build it first "
            "(`cargo build --release -p portcullis`, or `make test`), or set PORTCULLIS_BIN.",
            pytrace=False,
        )
    data_dir = tmp_path_factory.mktemp("portcullis-data")
    logs = tmp_path_factory.mktemp("portcullis-logs")
    stdout_path, stderr_path = logs / "stdout.log", logs / "stderr.log"
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"

    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env["PORTCULLIS_ROOT_ACCESS_KEY_ID"] = ROOT_ACCESS_KEY_ID
    env["PORTCULLIS_ROOT_SECRET_ACCESS_KEY"] = ROOT_SECRET_ACCESS_KEY
    argv = [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir)]
    database_url = os.environ.get("PORTCULLIS_COMPAT_DATABASE_URL")
    if database_url:
        argv += ["--database-url", database_url]

    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=str(data_dir)
        )
    srv = Server(
        endpoint=endpoint,
        host="127.0.0.1",
        port=port,
        data_dir=data_dir,
        access_key_id=ROOT_ACCESS_KEY_ID,
        secret_access_key=ROOT_SECRET_ACCESS_KEY,
        region=REGION,
        process=proc,
        stdout_path=stdout_path,
        stderr_path=stderr_path,
        argv=argv,
    )

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_problem = "no answer yet"
    while True:
        if proc.poll() is not None:
            pytest.fail(
                f"portcullis exited with status {proc.returncode} before answering /health\n"
                + srv.describe_exit(),
                pytrace=False,
            )
        try:
            r = requests.get(f"{endpoint}/health", timeout=2)
            if r.status_code == 200:
                break
            last_problem = f"GET /health answered {r.status_code}: {r.text[:200]!r}"
        except requests.RequestException as e:
            last_problem = f"GET /health failed: {e.__class__.__name__}"
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=10)
            pytest.fail(
                f"portcullis did not answer GET /health with 200 within {STARTUP_TIMEOUT_S}s "
                f"({last_problem})\n" + srv.describe_exit(),
                pytrace=False,
            )
        time.sleep(0.1)

    yield srv

    # Graceful shutdown: SIGTERM must make the server exit 0 within SHUTDOWN_TIMEOUT_S.
    if proc.poll() is not None:
        pytest.fail(
            f"portcullis died during the session (exit status {proc.returncode})\n" + srv.describe_exit(),
            pytrace=False,
        )
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail(
            f"portcullis did not exit within {SHUTDOWN_TIMEOUT_S}s of SIGTERM\n" + srv.describe_exit(),
            pytrace=False,
        )
    assert rc == 0, f"portcullis exited with status {rc} after SIGTERM\n" + srv.describe_exit()


@pytest.fixture(autouse=True)
def _server_is_alive(server: Server):
    """Fail the test during which the server died, with its stderr, instead of every test after it."""
    if server.process.poll() is not None:
        pytest.fail(
            f"portcullis is not running (exit status {server.process.returncode})\n"
            + server.describe_exit(),
            pytrace=False,
        )
    yield
    if server.process.poll() is not None:
        pytest.fail(
            f"portcullis exited during this test (status {server.process.returncode})\n"
            + server.describe_exit(),
            pytrace=False,
        )


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------


def _botocore_config(**extra: Any) -> Config:
    # No retries: a test must see the server's first answer (5xx would otherwise be retried).
    return Config(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        **extra,
    )


def _client(server: Server, access_key_id: str, secret: str, **config: Any):
    return boto3.session.Session().client(
        "cognito-idp",
        endpoint_url=server.endpoint,
        region_name=REGION,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        config=_botocore_config(**config),
    )


@pytest.fixture(scope="session")
def idp(server: Server):
    return _client(server, server.access_key_id, server.secret_access_key)


@pytest.fixture(scope="session")
def lax_idp(server: Server):
    """Like idp, but without botocore's client-side parameter validation (which checks model
    minimums and required members), so that invalid input reaches the server."""
    return _client(server, server.access_key_id, server.secret_access_key, parameter_validation=False)


@pytest.fixture(scope="session")
def unsigned_idp(server: Server):
    return _client(server, "unused", "unused", signature_version=UNSIGNED)


@pytest.fixture(scope="session")
def make_idp(server: Server) -> Callable[[str, str], Any]:
    def make(access_key_id: str, secret_access_key: str):
        return _client(server, access_key_id, secret_access_key)

    return make


class Wire:
    """Raw HTTP against the JSON endpoint, for what boto3 will not send."""

    def __init__(self, server: Server):
        self.server = server
        self.url = server.endpoint + "/"

    def signed_headers(
        self,
        body: bytes,
        headers: dict[str, str],
        credentials: tuple[str, str] | None = None,
        service: str = "cognito-idp",
        region: str = REGION,
    ) -> dict[str, str]:
        key_id, secret = credentials or (self.server.access_key_id, self.server.secret_access_key)
        req = AWSRequest(method="POST", url=self.url, data=body, headers=dict(headers))
        SigV4Auth(Credentials(key_id, secret), service, region).add_auth(req)
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()}

    def post(
        self,
        body: bytes | str | dict | list | None = None,
        *,
        target: str | None = None,
        content_type: str | None = JSON_CONTENT_TYPE,
        sign: bool = True,
        credentials: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        sign_body: bytes | None = None,
        timeout: float = 30,
    ) -> requests.Response:
        """POST / with the given body. dict/list bodies are JSON-encoded.

        sign_body: sign this body but send `body` (to test that the payload hash is checked).
        """
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = body or b""
        hdrs: dict[str, str] = {}
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if target is not None:
            hdrs["X-Amz-Target"] = target
        hdrs.update(headers or {})
        if sign:
            hdrs = self.signed_headers(sign_body if sign_body is not None else data, hdrs, credentials)
        return requests.post(self.url, data=data, headers=hdrs, timeout=timeout)

    def call(self, operation: str, body: Any = None, **kwargs: Any) -> requests.Response:
        """POST an operation of the user-pools API (X-Amz-Target set from the operation name)."""
        return self.post({} if body is None else body, target=TARGET_PREFIX + operation, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.server.endpoint + path, timeout=kwargs.pop("timeout", 30), **kwargs)

    def options(self, path: str = "/", **kwargs: Any) -> requests.Response:
        return requests.options(self.server.endpoint + path, timeout=kwargs.pop("timeout", 30), **kwargs)


@pytest.fixture(scope="session")
def wire(server: Server) -> Wire:
    return Wire(server)


# --------------------------------------------------------------------------------------------
# The outbox (messages are appended to <data-dir>/outbox.jsonl when no SMTP is configured)
# --------------------------------------------------------------------------------------------


class Outbox:
    def __init__(self, path: Path):
        self.path = path

    def __call__(self) -> list[dict]:
        try:
            raw = self.path.read_text()
        except FileNotFoundError:
            return []
        lines = raw.split("\n")
        if not raw.endswith("\n"):
            lines = lines[:-1]  # a line still being written
        return [json.loads(line) for line in lines if line.strip()]

    def matching(self, predicate: Callable[[dict], bool]) -> list[dict]:
        return [m for m in self() if predicate(m)]

    def wait_for(
        self, predicate: Callable[[dict], bool], count: int = 1, timeout: float = 10.0
    ) -> list[dict]:
        """Wait until at least `count` messages match; return all matching messages."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.matching(predicate)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} matching outbox message(s) within {timeout}s, found "
                    f"{len(found)}; outbox has {len(self())} message(s): {self()[-5:]!r}"
                )
            time.sleep(0.05)


@pytest.fixture(scope="session")
def outbox(server: Server) -> Outbox:
    return Outbox(server.outbox_path)


# --------------------------------------------------------------------------------------------
# The AWS CLI (v1, from the venv)
# --------------------------------------------------------------------------------------------


def _aws_executable() -> str:
    candidates = [COMPAT_DIR / ".venv" / "bin" / "aws", Path(sys.executable).parent / "aws"]
    for c in candidates:
        if c.exists():
            return str(c)
    found = shutil.which("aws")
    if found:
        return found
    pytest.fail("the AWS CLI is not installed: run `make compat-venv`", pytrace=False)


@pytest.fixture(scope="session")
def aws_cli(server: Server, tmp_path_factory) -> Callable[..., Any]:
    aws = _aws_executable()
    home = tmp_path_factory.mktemp("aws-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": server.access_key_id,
            "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_RETRY_MODE": "standard",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_PAGER": "",
        }
    )

    def run(*args: str, timeout: float = 120) -> Any:
        argv = [
            aws, "cognito-idp", *args,
            "--endpoint-url", server.endpoint, "--region", REGION, "--output", "json",
        ]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise AwsCliError(argv, proc.returncode, proc.stdout, proc.stderr)
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    return run


# --------------------------------------------------------------------------------------------
# Pools
# --------------------------------------------------------------------------------------------


@dataclass
class Pool:
    id: str
    arn: str | None
    name: str
    created: dict  # the UserPool returned by CreateUserPool


@pytest.fixture
def make_pool(idp, request) -> Callable[..., Pool]:
    created: list[str] = []

    def make(**kwargs: Any) -> Pool:
        name = kwargs.pop("PoolName", None) or unique_name(request.node.name, 60)
        up = idp.create_user_pool(PoolName=name, **kwargs)["UserPool"]
        created.append(up["Id"])
        return Pool(id=up["Id"], arn=up.get("Arn"), name=up.get("Name", name), created=up)

    yield make
    for pool_id in reversed(created):
        delete_pool_quietly(idp, pool_id)


@pytest.fixture
def pool(make_pool) -> Pool:
    return make_pool()
