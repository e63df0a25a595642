// What MONO's cardcoop extension does with keys, documents and webhooks, done with the stock
// libraries it uses (components/controller/src/extensions/cardcoop in coopenomics/mono):
// card.coop's tests feed it a JSON array of operations on stdin and read the results on stdout.
//
//   {op:"keygen"}                                    -> {private: "PVT_K1_…", public: "PUB_K1_…"}
//   {op:"sign", private, payload}                    -> {signature}   signMessage(canonicalize(payload))
//   {op:"recover", signature, body}                  -> {signer}      the webhook check: JCS of the whole body
//   {op:"endorse", private, issuer, subject, cert, chain_id, iat, exp}
//                                                    -> {jws}         a coop-endorsement+jws link (jose SignJWT)
//   {op:"verify_grant", grant, jwks}                 -> {header, claims} | {error}
import { createPrivateKey, createPublicKey, ECDH, verify } from 'node:crypto';
import { PrivateKey, PublicKey, Signature } from '@wharfkit/antelope';
import canonicalize from 'canonicalize';
import { SignJWT } from 'jose';

const b64u = (buf) => Buffer.from(buf).toString('base64url');

function signingKey(pvt) {
  // As MONO's EndorsementService: the K1 scalar as a Node KeyObject (here through its JWK).
  const key = PrivateKey.from(pvt);
  const d = Buffer.from(key.data.array);
  const point = ECDH.convertKey(Buffer.from(key.toPublic().data.array), 'secp256k1', null, null, 'uncompressed');
  return createPrivateKey({ format: 'jwk', key: { kty: 'EC', crv: 'secp256k1', d: b64u(d),
    x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) } });
}

async function run(op) {
  switch (op.op) {
    case 'keygen': {
      const key = PrivateKey.generate('K1');
      return { private: key.toString(), public: key.toPublic().toString() };
    }
    case 'sign':
      return { signature: PrivateKey.from(op.private)
        .signMessage(Buffer.from(canonicalize(op.payload), 'utf8')).toString() };
    case 'recover':
      return { signer: Signature.from(op.signature)
        .recoverMessage(Buffer.from(canonicalize(op.body), 'utf8')).toString() };
    case 'endorse': {
      const issuerKey = PrivateKey.from(op.private).toPublic().toString();
      const jws = await new SignJWT({ chain_id: op.chain_id, cert: PublicKey.from(op.cert).toString() })
        .setProtectedHeader({ alg: 'ES256K', typ: 'coop-endorsement+jws', kid: issuerKey })
        .setIssuer(op.issuer).setSubject(op.subject).setIssuedAt(op.iat).setExpirationTime(op.exp)
        .sign(signingKey(op.private));
      return { jws };
    }
    case 'verify_grant': {
      // disclosure/grant.ts: header and claims checked, raw R||S over "head.body" with the JWK.
      const [head, body, sig] = op.grant.split('.');
      const header = JSON.parse(Buffer.from(head, 'base64url').toString());
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
      if (header.alg !== 'ES256K' || header.typ !== 'cardcoop-grant+jws') return { error: 'header' };
      const signature = Buffer.from(sig, 'base64url');
      if (signature.length !== 64) return { error: 'signature length' };
      const keys = op.jwks.keys.filter((k) => !header.kid || k.kid === header.kid);
      const ok = keys.some((jwk) => verify('sha256', Buffer.from(`${head}.${body}`),
        { key: createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' }),
          dsaEncoding: 'ieee-p1363' }, signature));
      return ok ? { header, claims } : { error: 'signature' };
    }
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const results = [];
  for (const op of JSON.parse(input)) results.push(await run(op));
  process.stdout.write(JSON.stringify(results));
});
