import jwt from 'jsonwebtoken';
import {
  ANONYMOUS,
  createReplayGuard,
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

const sign = (claims: object, signOptions: jwt.SignOptions = {}, secret = SECRET) =>
  jwt.sign(claims, secret, { algorithm: 'HS256', ...signOptions });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

function expectUnauthenticated(fn: () => unknown, message?: string | RegExp): UnauthenticatedError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(UnauthenticatedError);
  const e = error as UnauthenticatedError;
  expect(e.extensions.code).toBe('UNAUTHENTICATED');
  if (message !== undefined) expect(e.message).toMatch(message);
  return e;
}

describe('viewerFromAuthorization', () => {
  it.each([undefined, '', '   '])('answers ANONYMOUS without a header (%j)', (header) => {
    expect(viewerFromAuthorization(header, options)).toBe(ANONYMOUS);
    expect(ANONYMOUS).toEqual({ userId: null, roles: [] });
  });

  it('reads the user id and gives every signed-in viewer the user role', () => {
    const token = mintToken({ secret: SECRET, userId: 'user-1', roles: [] });
    expect(viewerFromAuthorization(`Bearer ${token}`, options)).toEqual({ userId: 'user-1', roles: ['user'] });
    expect(viewerFromAuthorization(`Bearer ${sign({}, { subject: 'user-2' })}`, options)).toEqual({ userId: 'user-2', roles: ['user'] });
  });

  it('keeps admin and drops roles it does not know', () => {
    const token = sign({ roles: ['admin', 'superuser', 42, null] }, { subject: 'user-1' });
    const viewer = viewerFromAuthorization(`Bearer ${token}`, options);
    expect(viewer.userId).toBe('user-1');
    expect([...viewer.roles].sort()).toEqual(['admin', 'user']);
    expect(viewerFromAuthorization(`Bearer ${sign({ roles: ['root'] }, { subject: 'u' })}`, options).roles).toEqual(['user']);
  });

  it('accepts a single `role` claim', () => {
    expect([...viewerFromAuthorization(`Bearer ${sign({ role: 'admin' }, { subject: 'u' })}`, options).roles].sort()).toEqual(['admin', 'user']);
    expect(viewerFromAuthorization(`Bearer ${sign({ role: 'owner' }, { subject: 'u' })}`, options).roles).toEqual(['user']);
  });

  it('tolerates surrounding whitespace after the scheme', () => {
    const token = mintToken({ secret: SECRET, userId: 'u' });
    expect(viewerFromAuthorization(`Bearer   ${token}  `, options).userId).toBe('u');
  });

  it('refuses with an UNAUTHENTICATED error shape', () => {
    const e = expectUnauthenticated(() => viewerFromAuthorization('Bearer nope', options));
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
  ])('refuses a malformed header: %s', (_, header) => {
    expectUnauthenticated(() => viewerFromAuthorization(header, options), /^Malformed Authorization header/);
  });

  it('refuses a token signed with another secret', () => {
    const token = mintToken({ secret: OTHER_SECRET, userId: 'u' });
    expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, options), 'Invalid token');
  });

  it('refuses a token whose payload was changed', () => {
    const [header, , signature] = mintToken({ secret: SECRET, userId: 'u' }).split('.');
    const forged = `${header}.${b64url({ sub: 'u', roles: ['admin'], exp: nowSeconds() + 3600 })}.${signature}`;
    expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${forged}`, options), 'Invalid token');
  });

  it('refuses a token expired beyond the 5 s clock tolerance, and accepts one within it', () => {
    const expired = sign({ sub: 'u', exp: nowSeconds() - 30 });
    expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${expired}`, options), 'Token expired');
    const justExpired = sign({ sub: 'u', exp: nowSeconds() - 1 });
    expect(viewerFromAuthorization(`Bearer ${justExpired}`, options).userId).toBe('u');
    expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${justExpired}`, { ...options, clockToleranceSeconds: 0 }), 'Token expired');
  });

  it('refuses an unsigned token (alg none)', () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'u', roles: ['admin'], exp: nowSeconds() + 3600 })}.`;
    expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, options), 'Invalid token');
  });

  it('refuses an HMAC algorithm other than HS256, even with the right secret', () => {
    const token = sign({ sub: 'u' }, { algorithm: 'HS512' });
    expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, options), 'Invalid token');
  });

  it.each([
    ['no sub', {}],
    ['empty sub', { sub: '' }],
    ['numeric sub', { sub: 42 }],
    ['sub longer than 128 characters', { sub: 'u'.repeat(129) }],
  ])('refuses a token with %s', (_, claims) => {
    const token = sign({ roles: ['admin'], ...claims });
    expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, options), /^Invalid token/);
  });

  describe('with issuer and audience configured', () => {
    const strict: JwtOptions = { secret: SECRET, issuer: 'https://id.saypro.test', audience: 'saypro-graph' };

    it('accepts a token with both', () => {
      const token = mintToken({ ...strict, userId: 'u' });
      expect(viewerFromAuthorization(`Bearer ${token}`, strict)).toEqual({ userId: 'u', roles: ['user'] });
    });

    it.each([
      ['no iss', { audience: 'saypro-graph' }],
      ['another iss', { issuer: 'https://evil.test', audience: 'saypro-graph' }],
      ['no aud', { issuer: 'https://id.saypro.test' }],
      ['another aud', { issuer: 'https://id.saypro.test', audience: 'other-app' }],
    ])('refuses a token with %s', (_, claims) => {
      const token = sign({}, { subject: 'u', ...claims });
      expectUnauthenticated(() => viewerFromAuthorization(`Bearer ${token}`, strict), 'Invalid token');
    });

    it('does not check iss/aud when they are not configured', () => {
      const token = sign({}, { subject: 'u', issuer: 'anyone', audience: 'anything' });
      expect(viewerFromAuthorization(`Bearer ${token}`, options).userId).toBe('u');
    });
  });
});

describe('signViewerHeader / verifyViewerHeader', () => {
  const NOW = 1_700_000_000_000;
  const ada = { userId: 'user-ada', roles: ['user', 'admin'] as Role[] };
  const REQ = { audience: 'listings', path: '/graphql', body: '{"query":"{ viewer { id } }"}' };
  const at = (now: number, replay?: ReplayGuard) => ({ now, ...(replay ? { replay } : {}) });

  it('round-trips a viewer and the anonymous viewer', () => {
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    expect(header).toMatch(/^v2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW))).toEqual(ada);
    expect(verifyViewerHeader(signViewerHeader(ANONYMOUS, REQ, SECRET, 60, NOW), REQ, SECRET, at(NOW))).toEqual({ userId: null, roles: [] });
  });

  it('is good for its audience and its request only', () => {
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    expectUnauthenticated(() => verifyViewerHeader(header, { ...REQ, audience: 'payments' }, SECRET, at(NOW)), 'Internal viewer header is for another service');
    expectUnauthenticated(() => verifyViewerHeader(header, { ...REQ, body: '{"query":"mutation { x }"}' }, SECRET, at(NOW)), 'Internal viewer header is for another request');
    expectUnauthenticated(() => verifyViewerHeader(header, { ...REQ, path: '/internal/api-keys/verify' }, SECRET, at(NOW)), 'Internal viewer header is for another request');
    expect(verifyViewerHeader(header, { ...REQ, body: Buffer.from(REQ.body) }, SECRET, at(NOW))).toEqual(ada); // the same bytes
  });

  it('is accepted once with a replay guard; every header has its own nonce', () => {
    const replay = createReplayGuard();
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW, replay))).toEqual(ada);
    expectUnauthenticated(() => verifyViewerHeader(header, REQ, SECRET, at(NOW, replay)), 'Internal viewer header was already used');
    expect(verifyViewerHeader(signViewerHeader(ada, REQ, SECRET, 60, NOW), REQ, SECRET, at(NOW, replay))).toEqual(ada);
  });

  it('refuses new nonces rather than forget live ones when its memory is full', () => {
    const replay = createReplayGuard(2);
    expect([replay.firstUse('a', NOW / 1000 + 60, NOW), replay.firstUse('b', NOW / 1000 + 60, NOW), replay.firstUse('c', NOW / 1000 + 60, NOW)]).toEqual([true, true, false]);
    expect(replay.firstUse('c', NOW / 1000 + 200, NOW + 61_000)).toBe(true); // a and b expired and were dropped
  });

  it('drops roles it does not know, even when signed', () => {
    const header = signViewerHeader({ userId: 'u', roles: ['user', 'root' as Role] }, REQ, SECRET, 60, NOW);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW)).roles).toEqual(['user']);
  });

  it('refuses a changed payload', () => {
    const [version, , signature] = signViewerHeader({ userId: 'u', roles: ['user'] }, REQ, SECRET, 60, NOW).split('.');
    const forged = `${version}.${b64url({ sub: 'u', roles: ['user', 'admin'], exp: NOW / 1000 + 60 })}.${signature}`;
    expectUnauthenticated(() => verifyViewerHeader(forged, REQ, SECRET, at(NOW)), 'Invalid internal viewer header signature');
  });

  it('refuses a changed signature', () => {
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    const [version, payload, signature] = header.split('.') as [string, string, string];
    const middle = Math.floor(signature.length / 2);
    const flipped = signature.slice(0, middle) + (signature[middle] === 'A' ? 'B' : 'A') + signature.slice(middle + 1);
    expectUnauthenticated(() => verifyViewerHeader(`${version}.${payload}.${flipped}`, REQ, SECRET, at(NOW)), 'Invalid internal viewer header signature');
    expectUnauthenticated(() => verifyViewerHeader(`${version}.${payload}.`, REQ, SECRET, at(NOW)), 'Invalid internal viewer header signature');
    expectUnauthenticated(() => verifyViewerHeader(`${version}.${payload}.${signature}AA`, REQ, SECRET, at(NOW)), 'Invalid internal viewer header signature');
  });

  it('refuses a header signed with another secret', () => {
    const header = signViewerHeader(ada, REQ, OTHER_SECRET, 60, NOW);
    expectUnauthenticated(() => verifyViewerHeader(header, REQ, SECRET, at(NOW)), 'Invalid internal viewer header signature');
  });

  it('accepts a header until its expiry and refuses it after', () => {
    const header = signViewerHeader(ada, REQ, SECRET, 60, NOW);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW + 59_000))).toEqual(ada);
    expect(verifyViewerHeader(header, REQ, SECRET, at(NOW + 60_000))).toEqual(ada);
    expectUnauthenticated(() => verifyViewerHeader(header, REQ, SECRET, at(NOW + 61_000)), 'Internal viewer header expired');
  });

  it('refuses a missing header', () => {
    const e = expectUnauthenticated(() => verifyViewerHeader(undefined, REQ, SECRET, at(NOW)));
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
    expectUnauthenticated(() => verifyViewerHeader('', REQ, SECRET, at(NOW)), e.message);
  });

  it.each(['garbage', 'v2.only-two', 'v1.abc.def', 'v2.a.b.c'])('refuses a malformed header %j', (header) => {
    expectUnauthenticated(() => verifyViewerHeader(header, REQ, SECRET, at(NOW)), 'Malformed internal viewer header');
  });
});
