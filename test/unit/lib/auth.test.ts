import { SignJWT } from 'jose';
import {
  ANONYMOUS,
  createReplayGuard,
  DEFAULT_CLOCK_SKEW_SECONDS,
  type ReplayGuard,
  type Role,
  signViewerHeader,
  verifyViewerHeader,
  viewerFromAuthorization,
  mintToken,
  type JwtOptions,
} from '../../../lib/auth';
import { UnauthenticatedError } from '../../../lib/errors';

const SECRET = 'j'.repeat(32);
const OTHER_SECRET = 'k'.repeat(32);
const options: JwtOptions = { secret: SECRET };
const nowSeconds = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

interface SignOptions {
  subject?: string;
  issuer?: string;
  audience?: string;
  /** Lifetime in seconds; null for a token without `exp`. @default 600 */
  expiresIn?: number | null;
  algorithm?: 'HS256' | 'HS512';
}
/** A token with exactly these claims (jose), for the cases mintToken never makes. */
async function sign(claims: Record<string, unknown>, o: SignOptions = {}, secret = SECRET): Promise<string> {
  let token = new SignJWT(claims).setProtectedHeader({ alg: o.algorithm ?? 'HS256' });
  if (o.subject !== undefined) token = token.setSubject(o.subject);
  if (o.issuer) token = token.setIssuer(o.issuer);
  if (o.audience) token = token.setAudience(o.audience);
  if (o.expiresIn !== null && claims.exp === undefined)
    token = token.setExpirationTime(nowSeconds() + (o.expiresIn ?? 600));
  return token.sign(new TextEncoder().encode(secret));
}

async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

async function expectUnauthenticated(fn: () => unknown, message?: string | RegExp): Promise<UnauthenticatedError> {
  const error = await thrown(fn);
  expect(error).toBeInstanceOf(UnauthenticatedError);
  const e = error as UnauthenticatedError;
  expect(e.extensions.code).toBe('UNAUTHENTICATED');
  if (message !== undefined) expect(e.message).toMatch(message);
  return e;
}

describe('viewerFromAuthorization', () => {
  it.each([undefined, '', '   '])('answers ANONYMOUS without a header (%j)', async (header) => {
    expect(await viewerFromAuthorization(header, options)).toBe(ANONYMOUS);
    expect(ANONYMOUS).toEqual({ userId: null, roles: [] });
  });

  it('reads the user id and gives every signed-in viewer the user role', async () => {
    const token = await mintToken({ secret: SECRET, userId: 'user-1', roles: [] });
    expect(await viewerFromAuthorization(`Bearer ${token}`, options)).toEqual({ userId: 'user-1', roles: ['user'] });
    expect(await viewerFromAuthorization(`Bearer ${await sign({}, { subject: 'user-2' })}`, options)).toEqual({
      userId: 'user-2',
      roles: ['user'],
    });
  });

  it('keeps admin and drops roles it does not know', async () => {
    const token = await sign({ roles: ['admin', 'superuser', 42, null] }, { subject: 'user-1' });
    const viewer = await viewerFromAuthorization(`Bearer ${token}`, options);
    expect(viewer.userId).toBe('user-1');
    expect([...viewer.roles].sort()).toEqual(['admin', 'user']);
    expect(
      (await viewerFromAuthorization(`Bearer ${await sign({ roles: ['root'] }, { subject: 'u' })}`, options)).roles,
    ).toEqual(['user']);
  });

  it('accepts a single `role` claim', async () => {
    expect(
      [
        ...(await viewerFromAuthorization(`Bearer ${await sign({ role: 'admin' }, { subject: 'u' })}`, options)).roles,
      ].sort(),
    ).toEqual(['admin', 'user']);
    expect(
      (await viewerFromAuthorization(`Bearer ${await sign({ role: 'owner' }, { subject: 'u' })}`, options)).roles,
    ).toEqual(['user']);
  });

  it('tolerates surrounding whitespace after the scheme', async () => {
    const token = await mintToken({ secret: SECRET, userId: 'u' });
    expect((await viewerFromAuthorization(`Bearer   ${token}  `, options)).userId).toBe('u');
  });

  it('refuses with an UNAUTHENTICATED error shape', async () => {
    const e = await expectUnauthenticated(() => viewerFromAuthorization('Bearer nope', options));
    expect({ message: e.message, extensions: e.extensions }).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "UNAUTHENTICATED",
    "http": {
      "status": 401,
    },
  },
  "message": "Malformed Authorization header: expected "Bearer <JWT>"",
}
`);
  });

  it.each([
    ['no token', 'Bearer'],
    ['no token after the scheme', 'Bearer '],
    ['not a JWT', 'Bearer abc'],
    ['two segments', 'Bearer abc.def'],
    ['four segments', 'Bearer a.b.c.d'],
    ['Basic scheme', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['token without scheme', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.sig'],
  ])('refuses a malformed header: %s', async (_, header) => {
    await expectUnauthenticated(() => viewerFromAuthorization(header, options), /^Malformed Authorization header/);
  });

  it('refuses a token signed with another secret', async () => {
    const token = await mintToken({ secret: OTHER_SECRET, userId: 'u' });
    await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, options), 'Invalid token');
  });

  it('refuses a token whose payload was changed', async () => {
    const [header, , signature] = (await mintToken({ secret: SECRET, userId: 'u' })).split('.');
    const forged = `${header}.${b64url({ sub: 'u', roles: ['admin'], exp: nowSeconds() + 3600 })}.${signature}`;
    await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${forged}`, options), 'Invalid token');
  });

  it(`refuses a token expired beyond the ${DEFAULT_CLOCK_SKEW_SECONDS} s clock skew (the one setting for every mode), and accepts one within it`, async () => {
    expect(DEFAULT_CLOCK_SKEW_SECONDS).toBe(30);
    const expired = await sign({ exp: nowSeconds() - 40 }, { subject: 'u' });
    await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${expired}`, options), 'Token expired');
    const justExpired = await sign({ exp: nowSeconds() - 20 }, { subject: 'u' });
    expect((await viewerFromAuthorization(`Bearer ${justExpired}`, options)).userId).toBe('u');
    await expectUnauthenticated(
      () => viewerFromAuthorization(`Bearer ${justExpired}`, { ...options, clockToleranceSeconds: 0 }),
      'Token expired',
    );
    const minted = await mintToken({ secret: SECRET, userId: 'u', expiresIn: -60 });
    await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${minted}`, options), 'Token expired');
  });

  it('refuses a token without exp: no token is good forever, in development either', async () => {
    const forever = await sign({ roles: ['admin'] }, { subject: 'u', expiresIn: null });
    await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${forever}`, options), 'Invalid token');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'u', roles: ['admin'], exp: nowSeconds() + 3600 })}.`;
    await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, options), 'Invalid token');
  });

  it('refuses an HMAC algorithm other than HS256, even with the right secret', async () => {
    const token = await sign({}, { subject: 'u', algorithm: 'HS512' });
    await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, options), 'Invalid token');
  });

  it.each([
    ['no sub', {}],
    ['empty sub', { sub: '' }],
    ['numeric sub', { sub: 42 }],
    ['sub longer than 128 characters', { sub: 'u'.repeat(129) }],
  ])('refuses a token with %s', async (_, claims) => {
    const token = await sign({ roles: ['admin'], ...claims });
    await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, options), /^Invalid token/);
  });

  describe('with issuer and audience configured', () => {
    const strict: JwtOptions = { secret: SECRET, issuer: 'https://id.saypro.test', audience: 'saypro-graph' };

    it('accepts a token with both', async () => {
      const token = await mintToken({ ...strict, userId: 'u' });
      expect(await viewerFromAuthorization(`Bearer ${token}`, strict)).toEqual({ userId: 'u', roles: ['user'] });
    });

    it.each([
      ['no iss', { audience: 'saypro-graph' }],
      ['another iss', { issuer: 'https://evil.test', audience: 'saypro-graph' }],
      ['no aud', { issuer: 'https://id.saypro.test' }],
      ['another aud', { issuer: 'https://id.saypro.test', audience: 'other-app' }],
    ])('refuses a token with %s', async (_, claims) => {
      const token = await sign({}, { subject: 'u', ...claims });
      await expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, strict), 'Invalid token');
    });

    it('does not check iss/aud when they are not configured', async () => {
      const token = await sign({}, { subject: 'u', issuer: 'anyone', audience: 'anything' });
      expect((await viewerFromAuthorization(`Bearer ${token}`, options)).userId).toBe('u');
    });
  });
});

describe('signViewerHeader / verifyViewerHeader', () => {
  const NOW = 1_700_000_000_000;
  const ada = { userId: 'user-ada', roles: ['user', 'admin'] as Role[] };
  const REQ = { audience: 'listings', path: '/graphql', body: '{"query":"{ viewer { id } }"}' };
  const at = (now: number, replay?: ReplayGuard) => ({ now, ...(replay ? { replay } : {}) });

  it('round-trips a viewer and the anonymous viewer', async () => {
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    expect(header).toMatch(/^v2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW))).toEqual(ada);
    expect(verifyViewerHeader(signViewerHeader(ANONYMOUS, REQ, SECRET, 60, NOW), REQ, SECRET, at(NOW))).toEqual({
      userId: null,
      roles: [],
    });
  });

  it('is good for its audience and its request only', async () => {
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    await expectUnauthenticated(
      () => verifyViewerHeader(header, { ...REQ, audience: 'payments' }, SECRET, at(NOW)),
      'Internal viewer header is for another service',
    );
    await expectUnauthenticated(
      () => verifyViewerHeader(header, { ...REQ, body: '{"query":"mutation { x }"}' }, SECRET, at(NOW)),
      'Internal viewer header is for another request',
    );
    await expectUnauthenticated(
      () => verifyViewerHeader(header, { ...REQ, path: '/internal/api-keys/verify' }, SECRET, at(NOW)),
      'Internal viewer header is for another request',
    );
    expect(verifyViewerHeader(header, { ...REQ, body: Buffer.from(REQ.body) }, SECRET, at(NOW))).toEqual(ada); // the same bytes
  });

  it('is accepted once with a replay guard; every header has its own nonce', async () => {
    const replay = createReplayGuard();
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW, replay))).toEqual(ada);
    await expectUnauthenticated(
      () => verifyViewerHeader(header, REQ, SECRET, at(NOW, replay)),
      'Internal viewer header was already used',
    );
    expect(verifyViewerHeader(signViewerHeader(ada, REQ, SECRET, 60, NOW), REQ, SECRET, at(NOW, replay))).toEqual(ada);
  });

  it('drops expired nonces, and past its size forgets the oldest rather than refuse a request', () => {
    const replay = createReplayGuard(2);
    const exp = NOW / 1000 + 60;
    expect([replay.firstUse('a', exp, NOW), replay.firstUse('b', exp, NOW), replay.firstUse('b', exp, NOW)]).toEqual([
      true,
      true,
      false,
    ]);
    expect([replay.firstUse('c', exp, NOW), replay.firstUse('a', exp, NOW), replay.firstUse('c', exp, NOW)]).toEqual([
      true,
      true,
      false,
    ]); // 'a' was the oldest
    expect(replay.firstUse('b', exp + 200, NOW + 61_000)).toBe(true); // everything before expired and was dropped
  });

  it('drops roles it does not know, even when signed', async () => {
    const header = signViewerHeader({ userId: 'u', roles: ['user', 'root' as Role] }, REQ, SECRET, 60, NOW);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW)).roles).toEqual(['user']);
  });

  it('refuses a changed payload', async () => {
    const [version, , signature] = signViewerHeader({ userId: 'u', roles: ['user'] }, REQ, SECRET, 60, NOW).split('.');
    const forged = `${version}.${b64url({ sub: 'u', roles: ['user', 'admin'], exp: NOW / 1000 + 60 })}.${signature}`;
    await expectUnauthenticated(
      () => verifyViewerHeader(forged, REQ, SECRET, at(NOW)),
      'Invalid internal viewer header signature',
    );
  });

  it('refuses a changed signature', async () => {
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    const [version, payload, signature] = header.split('.') as [string, string, string];
    const middle = Math.floor(signature.length / 2);
    const flipped = signature.slice(0, middle) + (signature[middle] === 'A' ? 'B' : 'A') + signature.slice(middle + 1);
    await expectUnauthenticated(
      () => verifyViewerHeader(`${version}.${payload}.${flipped}`, REQ, SECRET, at(NOW)),
      'Invalid internal viewer header signature',
    );
    await expectUnauthenticated(
      () => verifyViewerHeader(`${version}.${payload}.`, REQ, SECRET, at(NOW)),
      'Invalid internal viewer header signature',
    );
    await expectUnauthenticated(
      () => verifyViewerHeader(`${version}.${payload}.${signature}AA`, REQ, SECRET, at(NOW)),
      'Invalid internal viewer header signature',
    );
  });

  it('refuses a header signed with another secret', async () => {
    const header = signViewerHeader(ada, REQ, OTHER_SECRET, 60, NOW);
    await expectUnauthenticated(
      () => verifyViewerHeader(header, REQ, SECRET, at(NOW)),
      'Invalid internal viewer header signature',
    );
  });

  it('accepts a header until its expiry and refuses it after', async () => {
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW + 59_000))).toEqual(ada);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW + 60_000))).toEqual(ada);
    await expectUnauthenticated(
      () => verifyViewerHeader(header, REQ, SECRET, at(NOW + 61_000)),
      'Internal viewer header expired',
    );
  });

  it('refuses a missing header', async () => {
    const e = await expectUnauthenticated(() => verifyViewerHeader(undefined, REQ, SECRET, at(NOW)));
    expect({ message: e.message, extensions: e.extensions }).toMatchInlineSnapshot(`
{
  "extensions": {
    "code": "UNAUTHENTICATED",
    "http": {
      "status": 401,
    },
  },
  "message": "Missing internal viewer header: call the graph through the gateway",
}
`);
    await expectUnauthenticated(() => verifyViewerHeader('', REQ, SECRET, at(NOW)), e.message);
  });

  it.each(['garbage', 'v2.only-two', 'v1.abc.def', 'v2.a.b.c'])('refuses a malformed header %j', async (header) => {
    await expectUnauthenticated(
      () => verifyViewerHeader(header, REQ, SECRET, at(NOW)),
      'Malformed internal viewer header',
    );
  });
});
