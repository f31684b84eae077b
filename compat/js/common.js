// Shared plumbing for the compat node scripts (driven by compat/test_js_clients.py).
//
// Contract with pytest: a script is run as `node <script> <scenario>` with one JSON object in the
// environment variable PORTCULLIS_JS_INPUT (endpoint, pool id, client id, user, ...). It prints
// exactly one JSON object on stdout (the last line) and exits 0 when the scenario ran to the end,
// whatever the server answered: the assertions live in pytest. A non-zero exit means the script
// itself broke (bad input, an exception, the watchdog fired).
"use strict";

const WATCHDOG_MS = 30000;

function input() {
  const raw = process.env.PORTCULLIS_JS_INPUT;
  if (!raw) {
    throw new Error("PORTCULLIS_JS_INPUT is not set");
  }
  return JSON.parse(raw);
}

function emit(result) {
  process.stdout.write(JSON.stringify(result) + "\n");
}

// Errors as plain data: the library errors carry `code` (the Cognito `__type`) and `name`.
function errorInfo(err) {
  if (err == null) {
    return null;
  }
  if (!(err instanceof Error)) {
    return { name: typeof err, type: typeof err, code: null, message: String(err) };
  }
  return {
    name: err.name || null,
    // aws-jwt-verify's error classes do not set `name`; the class name tells them apart.
    type: (err.constructor && err.constructor.name) || null,
    code: err.code || null,
    message: err.message || null,
    statusCode: err.statusCode || null,
  };
}

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

function decodeJwt(token) {
  const [header, payload] = token.split(".");
  return { header: decodeSegment(header), payload: decodeSegment(payload) };
}

// Record every call the libraries make through the global fetch (Node 20 has it built in;
// amazon-cognito-identity-js requires isomorphic-unfetch, which keeps an existing global fetch).
// Each entry: { operation: <X-Amz-Target suffix> or the URL, request: <parsed JSON body>, status }.
function recordFetch() {
  const calls = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async function recordingFetch(url, options = {}) {
    const headers = options.headers || {};
    let target = null;
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() === "x-amz-target") {
        target = String(v).split(".").pop();
      }
    }
    let request = null;
    if (typeof options.body === "string") {
      try {
        request = JSON.parse(options.body);
      } catch (_) {
        request = options.body;
      }
    }
    const entry = { operation: target || String(url), request, status: null };
    calls.push(entry);
    const response = await realFetch(url, options);
    entry.status = response.status;
    return response;
  };
  return calls;
}

// Run the named scenario from `scenarios`, print its result, exit. Never hangs: a watchdog ends
// the process (exit 3) if a library callback is never called.
function main(scenarios) {
  const name = process.argv[2];
  const scenario = scenarios[name];
  if (!scenario) {
    process.stderr.write(`unknown scenario ${JSON.stringify(name)}; known: ${Object.keys(scenarios).join(", ")}\n`);
    process.exit(2);
  }
  const watchdog = setTimeout(() => {
    process.stderr.write(`scenario ${name} did not finish within ${WATCHDOG_MS} ms\n`);
    process.exit(3);
  }, WATCHDOG_MS);
  Promise.resolve()
    .then(() => scenario(input()))
    .then(
      (result) => {
        clearTimeout(watchdog);
        emit(result);
        process.exit(0);
      },
      (err) => {
        clearTimeout(watchdog);
        process.stderr.write(`scenario ${name} threw: ${(err && err.stack) || err}\n`);
        process.exit(1);
      },
    );
}

module.exports = { input, emit, errorInfo, decodeJwt, recordFetch, main };
