// amazon-cognito-identity-js against Portcullis. Usage (see common.js for the contract):
//
//   PORTCULLIS_JS_INPUT='{"endpoint": "...", "poolId": "...", "clientId": "...", ...}' \
//     node identity.js <scenario>
//
// Scenarios: sign_in, new_password, refresh, attributes, sign_up, confirm_sign_up,
// global_sign_out, sign_out. Each prints one JSON object; `calls` lists the JSON API operations
// the library sent (X-Amz-Target suffix + request body) so pytest can check which flow it used.
"use strict";

const {
  AuthenticationDetails,
  CognitoRefreshToken,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} = require("amazon-cognito-identity-js");
const { errorInfo, main, recordFetch } = require("./common");

// The library keeps tokens in a Storage; in Node it falls back to one process-wide in-memory
// object. Give every pool its own so that nothing leaks between users in one scenario.
class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  removeItem(key) {
    this.items.delete(key);
  }
  clear() {
    this.items.clear();
  }
}

function pool(cfg) {
  return new CognitoUserPool({
    UserPoolId: cfg.poolId,
    ClientId: cfg.clientId,
    // The library POSTs to exactly this URL (default https://cognito-idp.<region>.amazonaws.com/).
    endpoint: `${cfg.endpoint}/`,
    Storage: new MemoryStorage(),
  });
}

function user(userPool, username) {
  return new CognitoUser({ Username: username, Pool: userPool, Storage: userPool.storage });
}

function sessionInfo(session) {
  if (!session) {
    return null;
  }
  return {
    idToken: session.getIdToken().getJwtToken(),
    accessToken: session.getAccessToken().getJwtToken(),
    refreshToken: session.getRefreshToken().getToken(),
    idPayload: session.getIdToken().decodePayload(),
    accessPayload: session.getAccessToken().decodePayload(),
    isValid: session.isValid(),
    clockDrift: session.getClockDrift(),
  };
}

// authenticateUser as a promise of an outcome. `onNewPassword(userAttributes, requiredAttributes)`
// (optional) answers NEW_PASSWORD_REQUIRED: it returns the attributes to send, and the challenge
// is completed with cfg.newPassword.
function authenticate(cognitoUser, cfg, onNewPassword) {
  const details = new AuthenticationDetails({ Username: cfg.username, Password: cfg.password });
  return new Promise((resolve) => {
    const seen = {};
    const callbacks = {
      onSuccess: (session) => resolve({ outcome: "success", ...seen, session: sessionInfo(session) }),
      onFailure: (err) => resolve({ outcome: "failure", ...seen, error: errorInfo(err) }),
      newPasswordRequired: (userAttributes, requiredAttributes) => {
        if (!onNewPassword || seen.newPasswordRequired) {
          resolve({ outcome: "newPasswordRequired", userAttributes, requiredAttributes });
          return;
        }
        seen.newPasswordRequired = { userAttributes, requiredAttributes };
        const attributes = onNewPassword(userAttributes, requiredAttributes);
        cognitoUser.completeNewPasswordChallenge(cfg.newPassword, attributes, callbacks);
      },
    };
    for (const other of ["mfaRequired", "totpRequired", "customChallenge", "mfaSetup", "selectMFAType"]) {
      callbacks[other] = (...args) => resolve({ outcome: other, args });
    }
    cognitoUser.authenticateUser(details, callbacks);
  });
}

async function signIn(cfg, onNewPassword) {
  const userPool = pool(cfg);
  const cognitoUser = user(userPool, cfg.username);
  if (cfg.flow) {
    cognitoUser.setAuthenticationFlowType(cfg.flow);
  }
  const result = await authenticate(cognitoUser, cfg, onNewPassword);
  return { userPool, cognitoUser, result };
}

function nodeCallback(fn) {
  return new Promise((resolve) => fn((err, value) => resolve({ error: errorInfo(err), value })));
}

const scenarios = {
  // authenticateUser with the flow the library defaults to (USER_SRP_AUTH), or cfg.flow
  // (set through setAuthenticationFlowType, e.g. USER_PASSWORD_AUTH).
  async sign_in(cfg) {
    const calls = recordFetch();
    const { result } = await signIn(cfg);
    return { ...result, calls };
  },

  // A FORCE_CHANGE_PASSWORD user: newPasswordRequired, then completeNewPasswordChallenge with
  // the required attributes only (what the library's documentation shows; the attributes it
  // reports are echoed back so pytest can check them).
  async new_password(cfg) {
    const calls = recordFetch();
    const { result } = await signIn(cfg, (userAttributes, requiredAttributes) => {
      const answer = {};
      for (const name of requiredAttributes || []) {
        answer[name] = (cfg.requiredAttributeValues || {})[name] || "value";
      }
      return answer;
    });
    return { ...result, calls };
  },

  // Sign in, then refreshSession with the refresh token the sign-in returned.
  async refresh(cfg) {
    const calls = recordFetch();
    const { cognitoUser, result } = await signIn(cfg);
    if (result.outcome !== "success") {
      return { signIn: result, calls };
    }
    const refreshToken = new CognitoRefreshToken({ RefreshToken: result.session.refreshToken });
    const refreshed = await nodeCallback((cb) => cognitoUser.refreshSession(refreshToken, cb));
    return {
      signIn: result,
      refresh: { error: refreshed.error, session: sessionInfo(refreshed.value) },
      calls,
    };
  },

  // Sign in, then getUserAttributes (GetUser with the access token).
  async attributes(cfg) {
    const calls = recordFetch();
    const { cognitoUser, result } = await signIn(cfg);
    if (result.outcome !== "success") {
      return { signIn: result, calls };
    }
    const got = await nodeCallback((cb) => cognitoUser.getUserAttributes(cb));
    const attributes = got.value ? got.value.map((a) => ({ Name: a.getName(), Value: a.getValue() })) : null;
    return { signIn: result, error: got.error, attributes, calls };
  },

  // CognitoUserPool.signUp(username, password, attributes, validationData = null, cb).
  async sign_up(cfg) {
    const calls = recordFetch();
    const userPool = pool(cfg);
    const attributes = Object.entries(cfg.attributes || {}).map(
      ([Name, Value]) => new CognitoUserAttribute({ Name, Value }),
    );
    const got = await nodeCallback((cb) => userPool.signUp(cfg.username, cfg.password, attributes, null, cb));
    const value = got.value
      ? {
          userConfirmed: got.value.userConfirmed,
          userSub: got.value.userSub,
          codeDeliveryDetails: got.value.codeDeliveryDetails,
          username: got.value.user.getUsername(),
        }
      : null;
    return { error: got.error, result: value, calls };
  },

  // CognitoUser.confirmRegistration(code, forceAliasCreation = true, cb).
  async confirm_sign_up(cfg) {
    const calls = recordFetch();
    const cognitoUser = user(pool(cfg), cfg.username);
    const got = await nodeCallback((cb) => cognitoUser.confirmRegistration(cfg.code, true, cb));
    return { error: got.error, result: got.value, calls };
  },

  // Sign in, globalSignOut, then refreshSession with the refresh token from the sign-in.
  // The library retries a failed refresh (jittered back-off, about 6 s in all) before it gives up.
  async global_sign_out(cfg) {
    const calls = recordFetch();
    const { cognitoUser, result } = await signIn(cfg);
    if (result.outcome !== "success") {
      return { signIn: result, calls };
    }
    const signOut = await new Promise((resolve) =>
      cognitoUser.globalSignOut({
        onSuccess: (msg) => resolve({ error: null, result: msg }),
        onFailure: (err) => resolve({ error: errorInfo(err), result: null }),
      }),
    );
    const refreshToken = new CognitoRefreshToken({ RefreshToken: result.session.refreshToken });
    const refreshed = await nodeCallback((cb) => cognitoUser.refreshSession(refreshToken, cb));
    return {
      signIn: result,
      globalSignOut: signOut,
      refresh: { error: refreshed.error, session: sessionInfo(refreshed.value) },
      calls,
    };
  },

  // Sign in, then signOut(callback): the library revokes the refresh token (RevokeToken) when
  // the access token carries `origin_jti`, then forgets the cached tokens.
  async sign_out(cfg) {
    const calls = recordFetch();
    const { userPool, cognitoUser, result } = await signIn(cfg);
    if (result.outcome !== "success") {
      return { signIn: result, calls };
    }
    const revokeError = await new Promise((resolve) => cognitoUser.signOut((err) => resolve(errorInfo(err))));
    return {
      signIn: result,
      signOutError: revokeError,
      currentUserAfter: userPool.getCurrentUser() ? userPool.getCurrentUser().getUsername() : null,
      calls,
    };
  },
};

main(scenarios);
