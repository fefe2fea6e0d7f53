/** An access token and how long the issuer says it lives. */
export interface IssuedToken {
  accessToken: string;
  expiresInSeconds: number;
}

export interface TokenCacheOptions {
  /** Asks the authorization server for a new token (client credentials). */
  fetch: () => Promise<IssuedToken>;
  /** A token is replaced this long before it expires, ms; at most half its lifetime. @default 60000 */
  refreshBeforeMs?: number;
  /** @default Date.now */
  now?: () => number;
}

export interface TokenCache {
  /** A token valid for a while yet: the cached one, or one fetch shared by every caller waiting. */
  get(): Promise<string>;
  /**
   * The server refused `token` (401): forget it, so the next `get` fetches. A token already
   * replaced is left alone, so fifty calls refused at once cause one fetch, not fifty.
   */
  invalidate(token: string): void;
}

/**
 * OAuth 2.0 client-credentials tokens for one client: fetched once, cached until shortly before
 * expiry, one fetch in flight at a time. A failed fetch is not cached: the next `get` tries again.
 */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const now = options.now ?? Date.now;
  const margin = options.refreshBeforeMs ?? 60_000;
  let current: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;

  function refresh(): Promise<string> {
    pending ??= options
      .fetch()
      .then(({ accessToken, expiresInSeconds }) => {
        const lifetimeMs = Math.max(0, expiresInSeconds * 1000);
        current = { token: accessToken, refreshAt: now() + lifetimeMs - Math.min(margin, lifetimeMs / 2) };
        return accessToken;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  }

  return {
    get() {
      if (current && now() < current.refreshAt) return Promise.resolve(current.token);
      return refresh();
    },
    invalidate(token) {
      if (current?.token === token) current = undefined;
    },
  };
}
