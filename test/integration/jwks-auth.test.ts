import { createHmac, type KeyObject } from 'node:crypto';
import http from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import { mintToken } from '../../lib/auth';
import { loadConfig } from '../../lib/config';
import { closeServer, listen } from '../../lib/http';
import { createAuthenticator, type Authenticator } from '../../gateway/auth/authenticator';
import { startBareGateway } from '../helpers/bare-gateway';

const ISSUER = 'https://id.saypro.test/';
const AUDIENCE = 'saypro-graph';
const HS_SECRET = 'h'.repeat(40);

let jwksServer: http.Server;
let jwksUrl: string;
let rsa: { privateKey: KeyLike; publicKey: KeyLike };
let ec: { privateKey: KeyLike; publicKey: KeyLike };
let stranger: { privateKey: KeyLike; publicKey: KeyLike };
let jwksRequests = 0;
let authenticate: Authenticator;

beforeAll(async () => {
  [rsa, ec, stranger] = await Promise.all([
    generateKeyPair('RS256'),
    generateKeyPair('ES256'),
    generateKeyPair('RS256'),
  ]);
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  jwksServer = http.createServer((_req, res) => {
    jwksRequests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  const address = await listen(jwksServer, 0, '127.0.0.1');
  jwksUrl = `http://127.0.0.1:${address.port}/.well-known/jwks.json`;
  authenticate = createAuthenticator({
    jwt: { secret: HS_SECRET, issuer: ISSUER, audience: AUDIENCE, clockToleranceSeconds: 30 },
    jwksUrl,
  });
});
afterAll(() => closeServer(jwksServer, 10));

const now = () => Math.floor(Date.now() / 1000);
function token(
  key: KeyLike,
  alg: string,
  kid: string,
  claims: Record<string, unknown> = {},
  set: { exp?: number; iss?: string; aud?: string; sub?: string } = {},
) {
  return new SignJWT({ roles: ['user'], ...claims })
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setSubject(set.sub ?? 'user-1')
    .setIssuer(set.iss ?? ISSUER)
    .setAudience(set.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(set.exp ?? now() + 600)
    .sign(key);
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
async function refusal(t: string): Promise<{ code: unknown; message: string }> {
  try {
    await authenticate(bearer(t));
  } catch (err) {
    return { code: (err as { extensions?: { code?: unknown } }).extensions?.code, message: (err as Error).message };
  }
  throw new Error('expected a refusal');
}

describe('JWT verified against a JWKS', () => {
  it('accepts RS256 and ES256 tokens signed by the provider’s keys, with their roles', async () => {
    expect(await authenticate(bearer(await token(rsa.privateKey, 'RS256', 'rsa-1', { roles: ['admin'] })))).toEqual({
      userId: 'user-1',
      roles: ['user', 'admin'],
    });
    expect(await authenticate(bearer(await token(ec.privateKey, 'ES256', 'ec-1')))).toEqual({
      userId: 'user-1',
      roles: ['user'],
    });
    expect(await authenticate({})).toEqual({ userId: null, roles: [] });
  });

  it('tolerates 30 s of clock skew and no more', async () => {
    expect(
      (await authenticate(bearer(await token(rsa.privateKey, 'RS256', 'rsa-1', {}, { exp: now() - 10 })))).userId,
    ).toBe('user-1');
    expect(await refusal(await token(rsa.privateKey, 'RS256', 'rsa-1', {}, { exp: now() - 60 }))).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'Token expired',
    });
  });

  it.each([
    ['another issuer', { iss: 'https://evil.test/' }],
    ['another audience', { aud: 'someone-else' }],
  ])('refuses a token from %s', async (_, set) => {
    expect(await refusal(await token(rsa.privateKey, 'RS256', 'rsa-1', {}, set))).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'Invalid token',
    });
  });

  it('refuses a token signed by a key outside the set, under a known or an unknown kid', async () => {
    expect((await refusal(await token(stranger.privateKey, 'RS256', 'rsa-1'))).code).toBe('UNAUTHENTICATED');
    expect((await refusal(await token(stranger.privateKey, 'RS256', 'nobody'))).code).toBe('UNAUTHENTICATED');
  });

  it('refuses alg none, and an HS256 token even when signed with the configured secret (algorithm confusion)', async () => {
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'user-1', roles: ['admin'], iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })}.`;
    expect((await refusal(none)).code).toBe('UNAUTHENTICATED');
    const hs = await mintToken({
      secret: HS_SECRET,
      userId: 'user-1',
      roles: ['admin'],
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: 600,
    });
    expect((await refusal(hs)).code).toBe('UNAUTHENTICATED');
    // HS256 signed with the RSA public key's PEM as the HMAC secret: the classic confusion attack
    const pem = (rsa.publicKey as unknown as KeyObject).export({ type: 'spki', format: 'pem' });
    const unsigned = `${b64({ alg: 'HS256', kid: 'rsa-1', typ: 'JWT' })}.${b64({ sub: 'user-1', roles: ['admin'], iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })}`;
    const confused = `${unsigned}.${createHmac('sha256', pem).update(unsigned).digest('base64url')}`;
    expect((await refusal(confused)).code).toBe('UNAUTHENTICATED');
  });

  it('refuses a token without a subject or with a changed payload', async () => {
    const good = await token(rsa.privateKey, 'RS256', 'rsa-1');
    const [h, , sig] = good.split('.');
    expect(
      (
        await refusal(
          `${h}.${b64({ sub: 'admin-1', roles: ['admin'], iss: ISSUER, aud: AUDIENCE, exp: now() + 600 })}.${sig}`,
        )
      ).code,
    ).toBe('UNAUTHENTICATED');
    const noSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime(now() + 600)
      .sign(rsa.privateKey);
    expect((await refusal(noSub)).code).toBe('UNAUTHENTICATED');
  });

  it('answers 503 SERVICE_UNAVAILABLE, not 401, when the key set cannot be fetched', async () => {
    const { url, stop } = await startBareGateway({
      jwt: { secret: HS_SECRET, issuer: ISSUER, audience: AUDIENCE },
      jwksUrl: 'http://127.0.0.1:1/jwks.json',
    });
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(await token(rsa.privateKey, 'RS256', 'rsa-1')) },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(
        ((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
      ).toBe('SERVICE_UNAVAILABLE');
    } finally {
      await stop();
    }
  });

  it('takes a JWKS URL only over https (http on loopback only)', () => {
    expect(() => loadConfig({ JWT_JWKS_URL: 'http://idp.example/.well-known/jwks.json' })).toThrow(
      /JWT_JWKS_URL: must be an https:\/\/ URL/,
    );
    expect(loadConfig({ JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' }).JWT_JWKS_URL).toBe(
      'https://idp.example/.well-known/jwks.json',
    );
    expect(loadConfig({ JWT_JWKS_URL: jwksUrl }).JWT_JWKS_URL).toBe(jwksUrl);
  });

  it('fetches the key set once and caches it', async () => {
    const before = jwksRequests;
    for (let i = 0; i < 5; i++) await authenticate(bearer(await token(ec.privateKey, 'ES256', 'ec-1')));
    expect(jwksRequests - before).toBe(0);
  });

  it('through a gateway configured with JWT_JWKS_URL: the provider’s token is accepted, a dev HS256 token is 401', async () => {
    const { url, stop } = await startBareGateway({
      jwt: { secret: HS_SECRET, issuer: ISSUER, audience: AUDIENCE },
      jwksUrl,
    });
    try {
      const call = (t: string) =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(t) },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
      const ok = await call(await token(rsa.privateKey, 'RS256', 'rsa-1'));
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ data: { __typename: 'Query' } });
      const dev = await call(
        await mintToken({ secret: HS_SECRET, userId: 'u', issuer: ISSUER, audience: AUDIENCE, expiresIn: 600 }),
      );
      expect(dev.status).toBe(401);
      expect(await dev.json()).toEqual({
        errors: [{ message: 'Invalid token', extensions: { code: 'UNAUTHENTICATED' } }],
      });
    } finally {
      await stop();
    }
  });
});
