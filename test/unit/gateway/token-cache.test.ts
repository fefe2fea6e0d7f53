import { cacheVerifiedTokens, type Authenticator } from '../../../gateway/auth/authenticator';
import type { Viewer } from '../../../lib/auth';
import { UnauthenticatedError } from '../../../lib/errors';

/** A token with these claims (the signature part is not checked by the cache: `verify` does that). */
const tokenOf = (claims: Record<string, unknown>) =>
  `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

function fakeVerifier(refuse: Set<string> = new Set()) {
  const calls: string[] = [];
  const verify: Authenticator = async (headers) => {
    const token = headers.authorization?.slice('Bearer '.length);
    calls.push(token ?? 'anonymous');
    if (token === undefined) return { userId: null, roles: [] };
    if (refuse.has(token)) throw new UnauthenticatedError('Invalid token');
    return {
      userId: JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).sub as string,
      roles: ['user'],
    } satisfies Viewer;
  };
  return { verify, calls };
}

describe('the verified-token cache', () => {
  let clock = 1_000_000_000_000;
  const now = () => clock;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('checks a token once and reuses the answer until the token expires', async () => {
    const { verify, calls } = fakeVerifier();
    const cached = cacheVerifiedTokens(verify, { now, maxAgeMs: 60_000 });
    const ada = tokenOf({ sub: 'ada', exp: clock / 1000 + 30 });
    expect(await cached(bearer(ada))).toMatchObject({ userId: 'ada' });
    expect(await cached(bearer(ada))).toMatchObject({ userId: 'ada' });
    expect(calls).toHaveLength(1);
    clock += 30_000; // at exp: checked again (and the real check refuses an expired token)
    await cached(bearer(ada));
    expect(calls).toHaveLength(2);
  });

  it('reuses an answer for at most maxAgeMs, even for a long-lived token', async () => {
    const { verify, calls } = fakeVerifier();
    const cached = cacheVerifiedTokens(verify, { now, maxAgeMs: 60_000 });
    const bob = tokenOf({ sub: 'bob', exp: clock / 1000 + 3600 });
    await cached(bearer(bob));
    clock += 59_000;
    await cached(bearer(bob));
    expect(calls).toHaveLength(1);
    clock += 2_000;
    await cached(bearer(bob));
    expect(calls).toHaveLength(2);
  });

  it('keeps no refusal, no anonymous caller, and tells tokens apart by every byte', async () => {
    const forged = tokenOf({ sub: 'eve', exp: clock / 1000 + 60 });
    const { verify, calls } = fakeVerifier(new Set([forged]));
    const cached = cacheVerifiedTokens(verify, { now });
    await expect(cached(bearer(forged))).rejects.toThrow('Invalid token');
    await expect(cached(bearer(forged))).rejects.toThrow('Invalid token');
    expect(calls).toHaveLength(2);
    await cached({});
    await cached({});
    expect(calls).toHaveLength(4);
    const ada = tokenOf({ sub: 'ada', exp: clock / 1000 + 60 });
    await cached(bearer(ada));
    await cached(bearer(`${ada}x`));
    expect(calls).toHaveLength(6);
  });

  it('holds at most `max` tokens, the least recently used leaving first', async () => {
    const { verify, calls } = fakeVerifier();
    const cached = cacheVerifiedTokens(verify, { now, max: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map((sub) => tokenOf({ sub, exp: clock / 1000 + 60 }));
    await cached(bearer(a!));
    await cached(bearer(b!));
    await cached(bearer(c!)); // a leaves
    await cached(bearer(b!));
    expect(calls).toHaveLength(3);
    await cached(bearer(a!));
    expect(calls).toHaveLength(4);
  });
});
