// aws-jwt-verify against tokens issued by Portcullis. Usage (see common.js for the contract):
//
//   PORTCULLIS_JS_INPUT='{"endpoint", "poolId", "clientId", "otherClientId", "idToken",
//                         "accessToken"}' node jwt_verify.js verify
//
// Prints {discovery, jwks, jwksFetches, cases: {<name>: {ok, payload | error}}}; pytest decides
// which cases must pass and which must fail, and how.
//
// How to verify Portcullis tokens with aws-jwt-verify (what the README should say):
//   Our issuer is `<public-url>/<poolId>`, not `https://cognito-idp.<region>.amazonaws.com/<poolId>`,
//   so use the generic JwtVerifier with our issuer and JWKS URI:
//     ID tokens:     JwtVerifier.create({ issuer, audience: clientId, jwksUri })
//                    (+ customJwtCheck on token_use === "id")
//     access tokens: JwtVerifier.create({ issuer, audience: null, jwksUri, customJwtCheck })
//                    with customJwtCheck on client_id and token_use === "access"
//                    (access tokens carry client_id, not aud).
//   CognitoJwtVerifier derives the issuer from AWS's hostname and cannot be pointed elsewhere;
//   the "cognito_verifier_*" cases below show it refusing our tokens on the issuer.
//   The library's default Node fetcher speaks HTTPS only (node:https), so a server on a plain
//   http:// public URL needs a custom fetcher (as below) or verifier.cacheJwks(jwks).
"use strict";

const { CognitoJwtVerifier, JwtVerifier } = require("aws-jwt-verify");
const { SimpleJwksCache } = require("aws-jwt-verify/jwk");
const { NonRetryableFetchError } = require("aws-jwt-verify/error");
const { errorInfo, main } = require("./common");

async function attempt(fn) {
  try {
    const payload = await fn();
    return { ok: true, payload };
  } catch (err) {
    return { ok: false, error: errorInfo(err) };
  }
}

// Verify synchronously with the library's clock (Date.now) set to `epochSeconds`.
function attemptAt(epochSeconds, fn) {
  const realNow = Date.now;
  Date.now = () => epochSeconds * 1000;
  try {
    return { ok: true, payload: fn() };
  } catch (err) {
    return { ok: false, error: errorInfo(err) };
  } finally {
    Date.now = realNow;
  }
}

function b64urlJson(value) {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

// Same header and signature, payload re-encoded with `changes` applied.
function withPayload(token, changes) {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  return [header, b64urlJson({ ...claims, ...changes }), signature].join(".");
}

// Same header and payload, one signature byte flipped.
function withFlippedSignature(token) {
  const [header, payload, signature] = token.split(".");
  const bytes = Buffer.from(signature, "base64url");
  bytes[bytes.length >> 1] ^= 0x01;
  return [header, payload, bytes.toString("base64url")].join(".");
}

function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

const scenarios = {
  async verify(cfg) {
    const issuer = `${cfg.endpoint}/${cfg.poolId}`;
    const jwksUri = `${issuer}/.well-known/jwks.json`;

    const discoveryResponse = await fetch(`${issuer}/.well-known/openid-configuration`);
    const discovery = discoveryResponse.status === 200 ? await discoveryResponse.json() : { status: discoveryResponse.status };
    const jwksResponse = await fetch(jwksUri);
    const jwks = jwksResponse.status === 200 ? await jwksResponse.json() : { status: jwksResponse.status };

    // A fetcher over the global fetch (HTTP or HTTPS), recording what the library asked for.
    const jwksFetches = [];
    const fetcher = {
      async fetch(uri) {
        jwksFetches.push(uri);
        const response = await fetch(uri);
        if (response.status !== 200) {
          throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
        }
        return response.arrayBuffer();
      },
    };
    const jwksCache = new SimpleJwksCache({ fetcher });

    const idVerifier = JwtVerifier.create(
      {
        issuer,
        audience: cfg.clientId,
        jwksUri,
        customJwtCheck: ({ payload }) => {
          if (payload.token_use !== "id") {
            throw new Error(`token_use is ${JSON.stringify(payload.token_use)}, expected "id"`);
          }
        },
      },
      { jwksCache },
    );
    const accessVerifier = (clientId) =>
      JwtVerifier.create(
        {
          issuer,
          audience: null, // access tokens have client_id and no aud
          jwksUri,
          customJwtCheck: ({ payload }) => {
            if (payload.token_use !== "access") {
              throw new Error(`token_use is ${JSON.stringify(payload.token_use)}, expected "access"`);
            }
            if (payload.client_id !== clientId) {
              throw new Error(`client_id is ${JSON.stringify(payload.client_id)}, expected ${JSON.stringify(clientId)}`);
            }
          },
        },
        { jwksCache },
      );
    const wrongAudience = JwtVerifier.create({ issuer, audience: cfg.otherClientId, jwksUri }, { jwksCache });

    const cases = {};
    cases.id_valid = await attempt(() => idVerifier.verify(cfg.idToken));
    cases.access_valid = await attempt(() => accessVerifier(cfg.clientId).verify(cfg.accessToken));
    cases.id_wrong_audience = await attempt(() => wrongAudience.verify(cfg.idToken));
    cases.access_wrong_client_id = await attempt(() => accessVerifier(cfg.otherClientId).verify(cfg.accessToken));
    cases.access_token_as_id = await attempt(() => idVerifier.verify(cfg.accessToken));
    cases.id_token_as_access = await attempt(() => accessVerifier(cfg.clientId).verify(cfg.idToken));

    const idExp = claimsOf(cfg.idToken).exp;
    const accessExp = claimsOf(cfg.accessToken).exp;
    // Tampering: a later exp with the original signature, and a flipped signature byte.
    cases.id_tampered_exp = await attempt(() => idVerifier.verify(withPayload(cfg.idToken, { exp: idExp + 3600 })));
    cases.access_tampered_exp = await attempt(() =>
      accessVerifier(cfg.clientId).verify(withPayload(cfg.accessToken, { exp: accessExp + 3600 })),
    );
    cases.id_tampered_signature = await attempt(() => idVerifier.verify(withFlippedSignature(cfg.idToken)));
    // A token claiming another user, signed by nobody: the signature must not cover it.
    cases.id_tampered_sub = await attempt(() =>
      idVerifier.verify(withPayload(cfg.idToken, { sub: "00000000-0000-4000-8000-000000000000" })),
    );

    // Expiry, without waiting: the library's clock just before and just after `exp`
    // (the JWKS is cached by now, so verifySync needs no fetch).
    cases.id_before_exp = attemptAt(idExp - 1, () => idVerifier.verifySync(cfg.idToken));
    cases.id_after_exp = attemptAt(idExp + 1, () => idVerifier.verifySync(cfg.idToken));
    cases.access_before_exp = attemptAt(accessExp - 1, () => accessVerifier(cfg.clientId).verifySync(cfg.accessToken));
    cases.access_after_exp = attemptAt(accessExp + 1, () => accessVerifier(cfg.clientId).verifySync(cfg.accessToken));

    // The library's default fetcher on an http:// JWKS URI (node:https only).
    cases.default_fetcher_http = await attempt(() =>
      JwtVerifier.create({ issuer, audience: cfg.clientId, jwksUri }).verify(cfg.idToken),
    );

    // CognitoJwtVerifier derives issuer = https://cognito-idp.<region>.amazonaws.com/<poolId>
    // (and the issuer-cognito-idp form) from the pool id and cannot be given another issuer.
    // Even with our JWKS preloaded (cacheJwks), it refuses our tokens because their `iss` is
    // `<endpoint>/<poolId>`: the failure is about the issuer, never about keys or signature.
    // Hence the README must point users at JwtVerifier with our issuer (above).
    const cognitoId = CognitoJwtVerifier.create({ userPoolId: cfg.poolId, tokenUse: "id", clientId: cfg.clientId });
    cognitoId.cacheJwks(jwks);
    cases.cognito_verifier_id = await attempt(() => cognitoId.verify(cfg.idToken));
    const cognitoAccess = CognitoJwtVerifier.create({
      userPoolId: cfg.poolId,
      tokenUse: "access",
      clientId: cfg.clientId,
    });
    cognitoAccess.cacheJwks(jwks);
    cases.cognito_verifier_access = await attempt(() => cognitoAccess.verify(cfg.accessToken));

    return { issuer, jwksUri, discovery, jwks, jwksFetches, cases };
  },
};

main(scenarios);
