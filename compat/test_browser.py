"""The hosted UI in a real browser: sign up, confirm, sign in and come back to the app.

`node compat/browser/hosted_ui.js` drives headless Debian Chromium (playwright-core, with
`executablePath` /usr/bin/chromium: no browser is downloaded) through the authorization code flow
with PKCE, the way a person would: the authorize URL leads to the sign-in page, its link to the
sign-up page, which is filled through its labels and the keyboard (Tab, Enter), the code sent by
email is read from <data-dir>/outbox.jsonl and entered on the confirmation page, the person signs
in and the browser lands on the app's callback, a tiny HTTP server on the loopback run here. The
test then exchanges the code at /oauth2/token with the PKCE verifier and checks the ID token.

Every page is kept as a full-page screenshot in compat/artifacts/browser/ (git-ignored), with the
script's report (hosted_ui.json); on failure, failure.png shows the page it stopped on. The sign-in
page is also checked for accessibility basics: every input has a label, the first Tab lands on
the first input, there is a <main> landmark, and framing is refused (CSP frame-ancestors 'none').

Needs node (v20+), `npm ci --prefix compat/js --no-audit --no-fund` (playwright-core) and
Chromium at /usr/bin/chromium (or PORTCULLIS_CHROMIUM): `apt-get install chromium`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import struct
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
import requests

from support import attrs, get_user

COMPAT_DIR = Path(__file__).resolve().parent
SCRIPT = COMPAT_DIR / "browser" / "hosted_ui.js"
JS_DIR = COMPAT_DIR / "js"
ARTIFACTS = COMPAT_DIR / "artifacts" / "browser"
CHROMIUM = os.environ.get("PORTCULLIS_CHROMIUM", "/usr/bin/chromium")
NODE_TIMEOUT_S = 90  # the script's own watchdog fires at 75 s

SCREENSHOTS = {
    "login": "01-authorize-login.png",
    "signup": "02-signup.png",
    "confirm": "03-confirm.png",
    "signin": "04-signin.png",
    "callback": "05-callback.png",
}
VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 1024, 768

USERNAME = "browser-user"
EMAIL = "browser.user@example.com"
PASSWORD = "Br0wser!Passw0rd#2026"
CALLBACK_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>App callback</title></head>'
    b"<body><main><h1>Back in the app</h1><p>The app received the authorization response.</p>"
    b"</main></body></html>"
)


# ---------------------------------------------------------------------------------------------
# The app's callback: records the query of every request to /callback
# ---------------------------------------------------------------------------------------------


class CallbackServer:
    def __init__(self) -> None:
        self.hits: list[dict[str, list[str]]] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                url = urlparse(self.path)
                if url.path != "/callback":
                    self.send_error(404)
                    return
                hits.append(parse_qs(url.query, keep_blank_values=True))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(CALLBACK_PAGE)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(CALLBACK_PAGE)

            def log_message(self, *args):
                pass

        # Loopback only. Chromium resolves `localhost` itself, to 127.0.0.1 among others.
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/callback"


@pytest.fixture
def callback_server():
    srv = CallbackServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()
    srv.thread.join(timeout=5)


# ---------------------------------------------------------------------------------------------
# Running the browser
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    exe = shutil.which("node")
    if not exe:
        pytest.fail("node is not installed (Node.js 20+ is needed for compat/browser)", pytrace=False)
    if not (JS_DIR / "node_modules" / "playwright-core" / "package.json").exists():
        pytest.fail(
            "compat/js/node_modules/playwright-core is missing: run "
            "`npm ci --prefix compat/js --no-audit --no-fund`",
            pytrace=False,
        )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: `apt-get install chromium` "
            "(or set PORTCULLIS_CHROMIUM)",
            pytrace=False,
        )
    return exe


def run_browser(node: str, cfg: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PORTCULLIS_"))}
    env["PORTCULLIS_BROWSER_INPUT"] = json.dumps(cfg)
    env["NODE_NO_WARNINGS"] = "1"
    proc = subprocess.run(
        [node, str(SCRIPT)],
        cwd=str(COMPAT_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    try:
        out = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        out = None
    if proc.returncode != 0 or not out or not out.get("ok"):
        detail = json.dumps(out, indent=1)[-6000:] if out else proc.stdout[-4000:]
        pytest.fail(
            f"`node {SCRIPT.relative_to(COMPAT_DIR.parent)}` exited {proc.returncode}"
            f"{' at ' + out['failedAt'] if out and out.get('failedAt') else ''}\n"
            f"--- error ---\n{(out or {}).get('error')}\n--- output ---\n{detail}\n"
            f"--- stderr ---\n{proc.stderr[-4000:]}",
            pytrace=False,
        )
    return out


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR", f"{path} has no IHDR chunk first"
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def browser_app(idp, make_pool, callback_server):
    pool = make_pool(AutoVerifiedAttributes=["email"])
    client = idp.create_user_pool_client(
        UserPoolId=pool.id,
        ClientName="browser-app",
        GenerateSecret=False,
        CallbackURLs=[callback_server.url],
        AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"],
        AllowedOAuthFlowsUserPoolClient=True,
        SupportedIdentityProviders=["COGNITO"],
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return pool, client


def test_sign_up_confirm_and_sign_in_through_the_hosted_ui_in_chromium(
    server, idp, node, browser_app, callback_server
):
    pool, client = browser_app
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    authorize_url = f"{server.endpoint}/oauth2/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": client["ClientId"],
            "redirect_uri": callback_server.url,
            "scope": "openid email",
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in [*SCREENSHOTS.values(), "failure.png", "hosted_ui.json"]:
        (ARTIFACTS / name).unlink(missing_ok=True)

    started = time.monotonic()
    out = run_browser(
        node,
        {
            "authorizeUrl": authorize_url,
            "callbackUrl": callback_server.url,
            "poolId": pool.id,
            "outboxPath": str(server.outbox_path),
            "username": USERNAME,
            "email": EMAIL,
            "password": PASSWORD,
            "artifactsDir": str(ARTIFACTS),
            "chromium": CHROMIUM,
        },
    )
    browser_s = time.monotonic() - started
    (ARTIFACTS / "hosted_ui.json").write_text(json.dumps(out, indent=1) + "\n")
    steps = {s["name"]: s for s in out["steps"]}
    assert list(steps) == list(SCREENSHOTS), out["steps"]

    # ----- every page the server rendered: 200, framing refused ------------------------------
    for name in ("login", "signup", "confirm", "signin"):
        final = steps[name]["chain"][-1]
        assert final["status"] == 200, (name, steps[name]["chain"])
        assert urlparse(final["url"]).netloc == urlparse(server.endpoint).netloc, (name, final)
        assert final["csp"] and "frame-ancestors 'none'" in final["csp"], (name, final)

    # ----- 1. authorize -> sign-in page ------------------------------------------------------
    login = steps["login"]
    authorize, shown = login["chain"][0], login["chain"][-1]
    assert authorize["url"] == authorize_url
    assert authorize["status"] == 302, login["chain"]
    assert urlparse(shown["url"]).path == "/login", login["chain"]
    assert parse_qs(urlparse(shown["url"]).query)["state"] == [state]
    assert login["h1"] == "Sign in"

    # Accessibility basics of the sign-in page.
    a11y = out["loginA11y"]
    assert a11y["lang"], "the page has no lang"
    assert a11y["mains"] >= 1 and a11y["mainRole"] >= 1, a11y["landmarks"]
    inputs = a11y["inputs"]
    assert [i["name"] for i in inputs] == ["username", "password"], inputs
    for field in inputs:
        assert field["labels"] or field["ariaLabel"] or field["ariaLabelledby"], f"no label: {field}"
        for text in field["labels"]:
            # The label is the input's accessible name: getByLabel finds that input and no other.
            assert a11y["byLabel"][text] == {"count": 1, "id": field["id"]}, (text, a11y["byLabel"])
    first = inputs[0]
    # Focus starts on the first input (autofocus) or nowhere ...
    assert a11y["focusOnLoad"]["id"] in (first["id"], None), a11y["focusOnLoad"]
    # ... and from the top of the page the first Tab lands on the first input, the next on the second.
    assert a11y["clickedOn"] in ("html", "body"), a11y["clickedOn"]
    assert a11y["focusAfterClick"]["id"] is None, a11y["focusAfterClick"]
    assert a11y["focusAfterFirstTab"]["id"] == first["id"], a11y
    assert a11y["focusAfterSecondTab"]["id"] == inputs[1]["id"], a11y

    # ----- 2. sign-up page, filled by label and keyboard -------------------------------------
    signup = steps["signup"]
    assert urlparse(signup["url"]).path == "/signup"
    assert signup["h1"] == "Sign up"
    fields = {f["name"]: f for f in signup["fields"]}
    assert set(fields) == {"username", "attr.email", "password"}, signup["fields"]
    assert fields["attr.email"]["type"] == "email"
    assert fields["password"]["type"] == "password"
    assert all(f["labels"] for f in signup["fields"]), signup["fields"]
    # fill(Username), Tab -> the email field, typed, Tab -> Password, fill(Password), Enter.
    typed = [f["name"] for f in signup["typedInto"]]
    assert typed == ["username", "attr.email", "password", "password"], signup["typedInto"]
    assert signup["emailValue"] == EMAIL

    # ----- 3. confirmation page --------------------------------------------------------------
    confirm = steps["confirm"]
    assert confirm["chain"][-1]["method"] == "POST"
    assert confirm["h1"] == "Confirm your account"
    assert confirm["usernameValue"] == USERNAME
    assert any(n["role"] == "status" and "code" in n["text"] for n in confirm["notices"]), confirm["notices"]
    assert out["outbox"]["channel"].upper() == "EMAIL", out["outbox"]

    # ----- 4. sign-in page after confirmation ------------------------------------------------
    signin = steps["signin"]
    assert signin["chain"][-1]["method"] == "POST"
    assert signin["h1"] == "Sign in"
    assert signin["usernameValue"] == USERNAME
    assert any("confirmed" in n["text"].lower() for n in signin["notices"]), signin["notices"]

    # ----- 5. back at the app with a code and the same state ---------------------------------
    callback = steps["callback"]
    sign_in_post, landed = callback["chain"][0], callback["chain"][-1]
    assert sign_in_post["method"] == "POST" and urlparse(sign_in_post["url"]).path == "/login"
    assert sign_in_post["status"] == 302, callback["chain"]
    assert landed["status"] == 200
    assert out["callback"]["origin"] == f"http://localhost:{callback_server.port}"
    assert out["callback"]["pathname"] == "/callback"
    query = out["callback"]["query"]
    assert query.get("state") == state, query
    assert query.get("code"), query
    assert "error" not in query, query
    assert callback_server.hits == [{"code": [query["code"]], "state": [state]}], callback_server.hits

    # No page broke its own Content-Security-Policy (Chromium reports violations on the console).
    assert not [m for m in out["console"] if "Content Security Policy" in m], out["console"]

    # ----- screenshots -----------------------------------------------------------------------
    for step_name, file in SCREENSHOTS.items():
        path = ARTIFACTS / file
        assert path.is_file() and path.stat().st_size > 0, path
        assert steps[step_name]["screenshot"] == str(path)
        width, height = png_size(path)
        assert width == VIEWPORT_WIDTH and height >= VIEWPORT_HEIGHT, (file, width, height)

    # ----- the code, exchanged with the PKCE verifier ----------------------------------------
    token_url = f"{server.endpoint}/oauth2/token"
    r = requests.post(
        token_url,
        data={
            "grant_type": "authorization_code",
            "client_id": client["ClientId"],
            "code": query["code"],
            "redirect_uri": callback_server.url,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "Bearer"
    assert {"id_token", "access_token", "refresh_token"} <= set(tokens), tokens.keys()

    issuer = f"{server.endpoint}/{pool.id}"
    jwks = requests.get(f"{issuer}/.well-known/jwks.json", timeout=10).json()
    kid = jwt.get_unverified_header(tokens["id_token"])["kid"]
    [key] = [k for k in jwks["keys"] if k["kid"] == kid]
    claims = jwt.decode(
        tokens["id_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=client["ClientId"],
        issuer=issuer,
    )
    assert claims["token_use"] == "id"
    assert claims["email"] == EMAIL
    assert claims["email_verified"] is True
    assert claims["cognito:username"] == USERNAME

    user = get_user(idp, pool.id, USERNAME)
    assert user["UserStatus"] == "CONFIRMED"
    assert attrs(user)["email"] == EMAIL
    assert attrs(user)["email_verified"] == "true"

    # Within the time budget (the browser part, Chromium start included).
    assert browser_s < 60, f"the browser flow took {browser_s:.1f}s: {out['timings']}"
