// A relying party built on panva's openid-client (OpenID Certified), driven by
// tests/idp/test_oidc_rp.py: it shows that idp works unchanged with a standard, discovery-driven
// OpenID Connect client using PKCE.
//
// Usage: node rp.mjs   with RP_ISSUER, RP_CLIENT_ID, RP_CLIENT_SECRET, RP_REDIRECT_URI
//        (optional: RP_AUTH = client_secret_post | client_secret_basic, RP_SCOPE,
//        RP_POST_LOGOUT_REDIRECT_URI), or the same as --issuer= --client-id= ... arguments.
//
// Protocol on stdio, one JSON object per line:
//   1. prints {"authorization_url", "state", "nonce", "metadata"}
//   2. reads one line from stdin: the callback URL the browser would land on
//   3. prints {"tokens", "claims", "userinfo", "introspection", "revocation",
//      "introspection_after_revocation", "userinfo_after_revocation", "end_session_url"}
// Any failure prints {"error", "name", "code", "status", "cause"} and exits with status 1.
import * as readline from 'node:readline';
import * as client from 'openid-client';

const option = (name, env) => {
  const prefix = `--${name}=`;
  const arg = process.argv.slice(2).find((a) => a.startsWith(prefix));
  return arg ? arg.slice(prefix.length) : process.env[env];
};

const issuer = option('issuer', 'RP_ISSUER');
const clientId = option('client-id', 'RP_CLIENT_ID');
const clientSecret = option('client-secret', 'RP_CLIENT_SECRET');
const redirectUri = option('redirect-uri', 'RP_REDIRECT_URI');
const auth = option('auth', 'RP_AUTH') || 'client_secret_post';
const scope = option('scope', 'RP_SCOPE') || 'openid email cardcoop:card cardcoop:memberships';
const postLogout = option('post-logout-redirect-uri', 'RP_POST_LOGOUT_REDIRECT_URI');

const emit = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const describe = (error) => ({
  error: String(error?.message ?? error),
  name: error?.name ?? null,
  code: error?.code ?? null,
  status: error?.status ?? error?.response?.status ?? null,
  cause: error?.cause === undefined ? null : JSON.parse(JSON.stringify(error.cause, (k, v) =>
    (typeof v === 'bigint' ? String(v) : v)) ?? null),
});

const readLine = () => new Promise((resolve, reject) => {
  const rl = readline.createInterface({ input: process.stdin });
  let done = false;
  rl.once('line', (line) => { done = true; rl.close(); resolve(line.trim()); });
  rl.once('close', () => {
    if (!done) reject(new Error('stdin closed before the callback URL arrived'));
  });
});

async function main() {
  for (const [name, value] of Object.entries({ issuer, clientId, clientSecret, redirectUri })) {
    if (!value) throw new Error(`missing ${name}`);
  }
  const clientAuth = auth === 'client_secret_basic'
    ? client.ClientSecretBasic(clientSecret)
    : client.ClientSecretPost(clientSecret);
  // The test issuer is http://127.0.0.1:<port>: allow plain HTTP, nothing else is relaxed.
  const config = await client.discovery(new URL(issuer), clientId, undefined, clientAuth,
    { execute: [client.allowInsecureRequests] });

  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = await client.calculatePKCECodeChallenge(pkceCodeVerifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope, state, nonce,
    code_challenge: codeChallenge, code_challenge_method: 'S256',
  });
  emit({ authorization_url: authorizationUrl.href, state, nonce,
         metadata: config.serverMetadata() });

  const callbackUrl = await readLine();
  // Checks state, iss (RFC 9207), the code exchange with PKCE, and the ID token: signature by
  // the JWKS, iss, aud, azp, exp/iat, nonce, at_hash.
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl),
    { pkceCodeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const introspection = await client.tokenIntrospection(config, tokens.access_token);
  await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' });
  const introspectionAfter = await client.tokenIntrospection(config, tokens.access_token);
  let userinfoAfter;
  try {
    userinfoAfter = { ok: await client.fetchUserInfo(config, tokens.access_token, claims.sub) };
  } catch (error) {
    userinfoAfter = describe(error);
  }
  const endSessionParams = { id_token_hint: tokens.id_token, state: client.randomState() };
  if (postLogout) endSessionParams.post_logout_redirect_uri = postLogout;
  const endSessionUrl = client.buildEndSessionUrl(config, endSessionParams);

  emit({
    tokens: { ...tokens }, claims, userinfo, introspection, revocation: 'ok',
    introspection_after_revocation: introspectionAfter,
    userinfo_after_revocation: userinfoAfter,
    end_session_url: endSessionUrl.href, end_session_state: endSessionParams.state,
  });
}

main().catch((error) => {
  emit(describe(error));
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
