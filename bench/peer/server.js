// The side-by-side peer of `make bench` (issue #10): panva's oidc-provider, one process, an
// in-memory store. One confidential client (client_secret_post) with authorization_code +
// refresh_token, refresh-token rotation on, userinfo on.
//
// At start it mints, through the provider's own models, the credentials the runs spend (access
// tokens, authorization codes, refresh tokens) and writes them to a JSON file, so that every
// measured request is a real token-endpoint or userinfo request and nothing else.
//
//   node server.js --port 8100 --out /tmp/peer.json --access 64 --codes 200000 --refresh 1200
//
// Prints "READY <port>" when it listens.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '8100' },
    out: { type: 'string' },
    access: { type: 'string', default: '64' },
    codes: { type: 'string', default: '1000' },
    refresh: { type: 'string', default: '1000' },
  },
});

const CLIENT = {
  client_id: 'bench',
  client_secret: randomBytes(24).toString('base64url'),
  redirect_uris: ['https://coop.example/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
};
// One PKCE pair for every minted code: card.coop's tickets carry S256 challenges too, so both
// sides check a verifier on each exchange.
const VERIFIER = randomBytes(32).toString('base64url');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

// The package's own memory adapter is an LRU of 1,000 entries (a development aid): the runs need
// far more live codes than that, so here is the plain Map it stands for. Expiry is checked on read.
const stores = new Map();
const byGrant = new Map(); // grantId -> [store, id] pairs, for revokeByGrantId
const byUid = new Map();

class MemoryAdapter {
  constructor(name) {
    if (!stores.has(name)) stores.set(name, new Map());
    this.store = stores.get(name);
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
    this.store.set(id, { payload, expiresAt });
    if (payload.grantId) {
      if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, []);
      byGrant.get(payload.grantId).push([this.store, id]);
    }
    if (payload.uid) byUid.set(payload.uid, id);
  }

  async find(id) {
    const entry = this.store.get(id);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid) {
    const id = byUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode() {
    return undefined; // no device flow here
  }

  async consume(id) {
    const entry = this.store.get(id);
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    this.store.delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const [store, id] of byGrant.get(grantId) ?? []) store.delete(id);
    byGrant.delete(grantId);
  }
}

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' };

const provider = new Provider(`http://127.0.0.1:${args.port}`, {
  adapter: MemoryAdapter,
  clients: [CLIENT],
  jwks: { keys: [jwk] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: true }),
  }),
  features: { userinfo: { enabled: true }, devInteractions: { enabled: false } },
  rotateRefreshToken: true,
  // Codes live long enough to wait for their run (card.coop's tickets live 5 minutes).
  ttl: {
    AccessToken: 3600, AuthorizationCode: 900, IdToken: 3600, RefreshToken: 86400,
    Grant: 86400, Session: 86400, Interaction: 3600,
  },
});

async function newGrant(accountId, scope) {
  const grant = new provider.Grant({ accountId, clientId: CLIENT.client_id });
  grant.addOIDCScope(scope);
  return grant.save();
}

async function mint() {
  const client = await provider.Client.find(CLIENT.client_id);
  const out = {
    client_id: CLIENT.client_id, client_secret: CLIENT.client_secret,
    redirect_uri: CLIENT.redirect_uris[0], code_verifier: VERIFIER,
    access_tokens: [], codes: [], refresh_tokens: [],
  };
  for (let i = 0; i < Number(args.access); i += 1) {
    const accountId = `member-${i}`;
    const grantId = await newGrant(accountId, 'openid email');
    out.access_tokens.push(await new provider.AccessToken({
      client, accountId, grantId, scope: 'openid email', gty: 'authorization_code',
    }).save());
  }
  // A grant per hundred codes: a replayed code revokes its grant, so a slip stays contained.
  let grantId;
  let owner;
  for (let i = 0; i < Number(args.codes); i += 1) {
    if (i % 100 === 0) {
      owner = `member-${(i / 100) % 1000}`;
      grantId = await newGrant(owner, 'openid email');
    }
    out.codes.push(await new provider.AuthorizationCode({
      client, accountId: owner, grantId, scope: 'openid email',
      redirectUri: CLIENT.redirect_uris[0], codeChallenge: CHALLENGE,
      codeChallengeMethod: 'S256', authTime: Math.floor(Date.now() / 1000),
    }).save());
  }
  // A grant per refresh token: the chains are independent, like different members' sessions.
  for (let i = 0; i < Number(args.refresh); i += 1) {
    const accountId = `member-${i}`;
    const refreshGrant = await newGrant(accountId, 'openid email offline_access');
    out.refresh_tokens.push(await new provider.RefreshToken({
      client, accountId, grantId: refreshGrant, scope: 'openid email offline_access',
      gty: 'authorization_code', authTime: Math.floor(Date.now() / 1000), rotations: 0,
    }).save());
  }
  return out;
}

const started = Date.now();
const minted = await mint();
writeFileSync(args.out, JSON.stringify(minted));
provider.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`READY ${args.port} (minted in ${Date.now() - started} ms)`);
});
