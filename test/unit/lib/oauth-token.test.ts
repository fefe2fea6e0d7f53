import { createTokenCache, type IssuedToken } from '../../../lib/oauth-token';

/** A token server in memory: each fetch waits until the test answers it. */
function server() {
  const waiting: Array<{ resolve: (t: IssuedToken) => void; reject: (e: Error) => void }> = [];
  let issued = 0;
  return {
    fetch: () => new Promise<IssuedToken>((resolve, reject) => waiting.push({ resolve, reject })),
    answer(expiresInSeconds = 100) {
      issued += 1;
      waiting.shift()!.resolve({ accessToken: `token-${issued}`, expiresInSeconds });
    },
    fail() {
      waiting.shift()!.reject(new Error('token endpoint down'));
    },
    pending: () => waiting.length,
  };
}

describe('OAuth token cache', () => {
  it('shares one fetch between concurrent callers and reuses the token until shortly before expiry', async () => {
    let now = 0;
    const tokens = server();
    const cache = createTokenCache({ fetch: tokens.fetch, refreshBeforeMs: 10_000, now: () => now });
    const all = Array.from({ length: 50 }, () => cache.get());
    expect(tokens.pending()).toBe(1);
    tokens.answer(100);
    expect(new Set(await Promise.all(all))).toEqual(new Set(['token-1']));
    now = 89_999;
    expect(await cache.get()).toBe('token-1');
    now = 90_000;
    const next = cache.get();
    tokens.answer(100);
    expect(await next).toBe('token-2');
  });

  it('refreshes at half the lifetime when the margin is longer than that', async () => {
    let now = 0;
    const tokens = server();
    const cache = createTokenCache({ fetch: tokens.fetch, now: () => now });
    const first = cache.get();
    tokens.answer(2);
    await first;
    now = 999;
    expect(await cache.get()).toBe('token-1');
    now = 1000;
    void cache.get();
    expect(tokens.pending()).toBe(1);
  });

  it('does not keep a failed fetch, and invalidates only the token that was refused', async () => {
    const tokens = server();
    const cache = createTokenCache({ fetch: tokens.fetch });
    const failed = cache.get();
    tokens.fail();
    await expect(failed).rejects.toThrow('token endpoint down');
    const retried = cache.get();
    tokens.answer();
    expect(await retried).toBe('token-1');
    cache.invalidate('token-1');
    const replaced = cache.get();
    tokens.answer();
    expect(await replaced).toBe('token-2');
    cache.invalidate('token-1'); // a late 401 for the old token: the new one stays
    expect(await cache.get()).toBe('token-2');
    expect(tokens.pending()).toBe(0);
  });
});
