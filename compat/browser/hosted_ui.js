// The hosted sign-in UI in a real browser: headless Debian Chromium driven by playwright-core.
// Driven by compat/test_browser.py.
//
// Contract with pytest: run as `node compat/browser/hosted_ui.js` with one JSON object in the
// environment variable PORTCULLIS_BROWSER_INPUT:
//   authorizeUrl   the full /oauth2/authorize URL (PKCE challenge and state already in it)
//   callbackUrl    the redirect_uri (http://localhost:<port>/callback, served by pytest)
//   poolId         the pool (to pick the confirmation code from the outbox)
//   outboxPath     <data-dir>/outbox.jsonl
//   username, email, password
//   artifactsDir   where the full-page screenshots go
//   chromium       the browser executable (default /usr/bin/chromium)
// It prints exactly one JSON object on stdout (the last line): every page it saw (URL, status,
// headers that matter, heading), the accessibility facts of the login page, the focus order it
// typed through, the screenshots it took and the callback URL it landed on. It exits 0 when the
// flow ran to the end and 1 when a step could not be done (the JSON then has `error` and the
// steps done so far, and failure.png shows the page). The assertions live in pytest.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");

// playwright-core is installed with the other node clients in compat/js.
const PLAYWRIGHT = require.resolve("playwright-core", { paths: [path.join(__dirname, "..", "js")] });
const { chromium } = require(PLAYWRIGHT);

const WATCHDOG_MS = 75000;
const STEP_TIMEOUT_MS = 15000;
const OUTBOX_TIMEOUT_MS = 10000;

// Without the background-networking flags Chromium tries to reach the (closed) network.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function input() {
  const raw = process.env.PORTCULLIS_BROWSER_INPUT;
  if (!raw) {
    throw new Error("PORTCULLIS_BROWSER_INPUT is not set");
  }
  const cfg = JSON.parse(raw);
  const required = ["authorizeUrl", "callbackUrl", "poolId", "outboxPath", "username", "email", "password", "artifactsDir"];
  for (const key of required) {
    if (!cfg[key]) {
      throw new Error(`PORTCULLIS_BROWSER_INPUT has no ${key}`);
    }
  }
  return cfg;
}

// Playwright's messages carry terminal colours.
const plain = (err) => String((err && err.stack) || err).replace(/\u001b\[[0-9;]*m/g, "");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The sign-up code for this user, from the outbox (one JSON message per line; the last line may
// still be being written).
async function confirmationCode(outboxPath, poolId, username) {
  const deadline = Date.now() + OUTBOX_TIMEOUT_MS;
  for (;;) {
    let raw = "";
    try {
      raw = fs.readFileSync(outboxPath, "utf8");
    } catch (err) {
      if (err.code !== "ENOENT") {
        throw err;
      }
    }
    const lines = raw.split("\n");
    if (!raw.endsWith("\n")) {
      lines.pop();
    }
    const found = lines
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line))
      .filter((m) => m.pool_id === poolId && m.username === username && m.purpose === "sign_up" && m.code);
    if (found.length) {
      const last = found[found.length - 1];
      return {
        code: last.code,
        channel: last.channel,
        destination: last.destination,
        messages: found.length,
      };
    }
    if (Date.now() > deadline) {
      throw new Error(`no sign_up code for ${username} in ${outboxPath} within ${OUTBOX_TIMEOUT_MS} ms`);
    }
    await sleep(50);
  }
}

// What has the keyboard focus, in a few words.
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) {
      return { tag: el ? el.tagName.toLowerCase() : null, id: null, name: null };
    }
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id || null,
      name: el.getAttribute("name"),
      type: el.getAttribute("type"),
    };
  });
}

// The facts pytest checks on the login page.
function pageFacts(page) {
  return page.evaluate(() => {
    const visible = (el) => el.type !== "hidden" && el.getClientRects().length > 0;
    const controls = [...document.querySelectorAll("input, select, textarea")].filter(visible);
    const landmarkSelector =
      'main, nav, header, footer, aside, form[aria-label], form[aria-labelledby], section[aria-label], ' +
      '[role="main"], [role="navigation"], [role="banner"], [role="contentinfo"], [role="form"], ' +
      '[role="region"], [role="search"], [role="complementary"]';
    return {
      lang: document.documentElement.getAttribute("lang"),
      title: document.title,
      h1: [...document.querySelectorAll("h1")].map((h) => h.textContent.trim()),
      mains: document.querySelectorAll('main, [role="main"]').length,
      landmarks: [...document.querySelectorAll(landmarkSelector)].map((el) => ({
        tag: el.tagName.toLowerCase(),
        role: el.getAttribute("role"),
        label: el.getAttribute("aria-label"),
      })),
      inputs: controls.map((el) => ({
        id: el.id || null,
        name: el.getAttribute("name"),
        type: el.getAttribute("type"),
        autocomplete: el.getAttribute("autocomplete"),
        labels: [...(el.labels || [])].map((l) => l.textContent.trim()),
        ariaLabel: el.getAttribute("aria-label"),
        ariaLabelledby: el.getAttribute("aria-labelledby"),
      })),
    };
  });
}

function heading(page) {
  return page.evaluate(() => {
    const h = document.querySelector("h1");
    return h ? h.textContent.trim() : null;
  });
}

function notices(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('[role="status"], [role="alert"]')].map((el) => ({
      role: el.getAttribute("role"),
      text: el.textContent.trim(),
    })),
  );
}

// A navigation's response, with the redirects that led to it (oldest first).
async function describeResponse(response) {
  if (!response) {
    return null;
  }
  const chain = [];
  for (let req = response.request(); req; req = req.redirectedFrom()) {
    const res = await req.response();
    const headers = res ? await res.allHeaders() : {};
    chain.unshift({
      method: req.method(),
      url: req.url(),
      status: res ? res.status() : null,
      location: headers.location || null,
      csp: headers["content-security-policy"] || null,
      xFrameOptions: headers["x-frame-options"] || null,
      cacheControl: headers["cache-control"] || null,
    });
  }
  return chain;
}

// A fresh profile for every run, removed at the end (by the watchdog too).
let userDataDir = null;

function removeProfile() {
  if (userDataDir) {
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    } catch (err) {
      process.stderr.write(`could not remove ${userDataDir}: ${err.message}\n`);
    }
    userDataDir = null;
  }
}

async function run(cfg, out) {
  fs.mkdirSync(cfg.artifactsDir, { recursive: true });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "portcullis-chromium-"));
  const started = Date.now();
  const timings = {};
  const mark = (name) => {
    timings[name] = Date.now() - started;
  };
  let context = null;
  let page = null;

  const shot = async (file) => {
    const target = path.join(cfg.artifactsDir, file);
    await page.screenshot({ path: target, fullPage: true });
    out.screenshots.push(target);
    return target;
  };
  // Each step: the page it led to, as seen by the browser.
  const step = async (name, response, extra = {}) => {
    const entry = {
      name,
      url: page.url(),
      chain: await describeResponse(response),
      title: await page.title(),
      h1: await heading(page),
      notices: await notices(page),
      ...extra,
    };
    out.steps.push(entry);
    mark(name);
    return entry;
  };
  // Do `action`, wait for the main frame to load the document it leads to.
  const navigating = async (action) => {
    const [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: "load", timeout: STEP_TIMEOUT_MS }),
      action(),
    ]);
    return response;
  };

  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: cfg.chromium || "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1024, height: 768 },
      deviceScaleFactor: 1,
      colorScheme: "light",
      reducedMotion: "reduce",
      locale: "en-US",
      timezoneId: "UTC",
      timeout: STEP_TIMEOUT_MS,
    });
    out.browserVersion = context.browser() ? context.browser().version() : null;
    mark("launched");
    page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
    page.on("console", (msg) => {
      const where = msg.location() && msg.location().url;
      out.console.push(`${msg.type()}: ${msg.text()}${where ? ` (${where})` : ""}`);
    });
    page.on("pageerror", (err) => out.console.push(`pageerror: ${err.message}`));

    // 1. /oauth2/authorize sends the browser to the sign-in page.
    const login = await page.goto(cfg.authorizeUrl, { waitUntil: "load" });
    await page.getByRole("heading", { level: 1 }).waitFor();
    const loginStep = await step("login", login);
    // As it first shows, before the keyboard checks move the focus.
    loginStep.screenshot = await shot("01-authorize-login.png");

    // Accessibility basics of the sign-in page.
    const a11y = await pageFacts(page);
    a11y.byLabel = {};
    for (const control of a11y.inputs) {
      for (const text of control.labels) {
        const matches = page.getByLabel(text, { exact: true });
        a11y.byLabel[text] = {
          count: await matches.count(),
          id: (await matches.count()) === 1 ? await matches.getAttribute("id") : null,
        };
      }
    }
    a11y.mainRole = await page.getByRole("main").count();
    a11y.focusOnLoad = await focused(page);
    // A click on the blank page around the card drops the focus and puts the start of
    // sequential focus navigation at the top of the document: the next Tab is the first one.
    a11y.clickedOn = await page.evaluate(() => {
      const el = document.elementFromPoint(2, 2);
      return el ? el.tagName.toLowerCase() : null;
    });
    await page.mouse.click(2, 2);
    a11y.focusAfterClick = await focused(page);
    await page.keyboard.press("Tab");
    a11y.focusAfterFirstTab = await focused(page);
    await page.keyboard.press("Tab");
    a11y.focusAfterSecondTab = await focused(page);
    try {
      a11y.ariaSnapshot = await page.getByRole("main").ariaSnapshot();
    } catch (err) {
      a11y.ariaSnapshot = `unavailable: ${err.message}`;
    }
    out.loginA11y = a11y;

    // 2. The sign-up page, through the login page's link.
    const signupLink = page.getByRole("link", { name: /sign up/i });
    const signup = await navigating(() => signupLink.click());
    const signupStep = await step("signup", signup);
    signupStep.fields = (await pageFacts(page)).inputs;

    // Label, then keyboard: Username, Tab to the next field (email), Tab to Password, Enter.
    const typedInto = [];
    await page.getByLabel("Username", { exact: true }).fill(cfg.username);
    typedInto.push(await focused(page));
    await page.keyboard.press("Tab");
    typedInto.push(await focused(page));
    await page.keyboard.type(cfg.email);
    const emailField = page.getByLabel("Email address", { exact: true });
    signupStep.emailValue = (await emailField.count()) === 1 ? await emailField.inputValue() : null;
    await page.keyboard.press("Tab");
    typedInto.push(await focused(page));
    await page.getByLabel("Password", { exact: true }).fill(cfg.password);
    typedInto.push(await focused(page));
    signupStep.typedInto = typedInto;
    signupStep.screenshot = await shot("02-signup.png");
    const afterSignup = await navigating(() => page.keyboard.press("Enter"));

    // 3. The confirmation page, with the code from the outbox.
    const confirmStep = await step("confirm", afterSignup);
    confirmStep.fields = (await pageFacts(page)).inputs;
    confirmStep.usernameValue = await page.getByLabel("Username", { exact: true }).inputValue();
    const message = await confirmationCode(cfg.outboxPath, cfg.poolId, cfg.username);
    out.outbox = { channel: message.channel, destination: message.destination, messages: message.messages };
    await page.getByLabel("Confirmation code", { exact: true }).fill(message.code);
    confirmStep.screenshot = await shot("03-confirm.png");
    const afterConfirm = await navigating(() => page.getByRole("button", { name: "Confirm" }).click());

    // 4. The sign-in page again, the username kept.
    const signinStep = await step("signin", afterConfirm);
    signinStep.fields = (await pageFacts(page)).inputs;
    signinStep.usernameValue = await page.getByLabel("Username", { exact: true }).inputValue();
    if (!signinStep.usernameValue) {
      await page.getByLabel("Username", { exact: true }).fill(cfg.username);
    }
    await page.getByLabel("Password", { exact: true }).fill(cfg.password);
    signinStep.screenshot = await shot("04-signin.png");
    const callback = await navigating(() => page.getByRole("button", { name: "Sign in" }).click());

    // 5. The app's callback.
    const callbackStep = await step("callback", callback);
    callbackStep.screenshot = await shot("05-callback.png");
    const landed = new URL(page.url());
    out.callback = {
      url: page.url(),
      origin: landed.origin,
      pathname: landed.pathname,
      query: Object.fromEntries(landed.searchParams),
    };
    out.ok = true;
  } catch (err) {
    out.ok = false;
    out.error = plain(err);
    if (page) {
      out.failedAt = page.url();
      try {
        await shot("failure.png");
      } catch (_) {
        // the page is gone; nothing to show
      }
    }
  } finally {
    out.timings = timings;
    if (context) {
      await context.close().catch(() => {});
    }
    out.totalMs = Date.now() - started;
    removeProfile();
  }
}

function main() {
  const out = { ok: false, browserVersion: null, steps: [], screenshots: [], console: [] };
  const watchdog = setTimeout(() => {
    out.error = `the browser flow did not finish within ${WATCHDOG_MS} ms`;
    process.stdout.write(JSON.stringify(out) + "\n");
    removeProfile();
    process.exit(3); // playwright-core kills the browser it launched on exit
  }, WATCHDOG_MS);
  Promise.resolve()
    .then(() => run(input(), out))
    .then(
      () => {
        clearTimeout(watchdog);
        process.stdout.write(JSON.stringify(out) + "\n");
        process.exit(out.ok ? 0 : 1);
      },
      (err) => {
        clearTimeout(watchdog);
        out.error = plain(err);
        process.stdout.write(JSON.stringify(out) + "\n");
        process.exit(1);
      },
    );
}

main();
