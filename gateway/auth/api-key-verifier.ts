import { createHash } from 'node:crypto';
import { API_KEY_VERIFY_PATH, VIEWER_HEADER, signViewerHeader, type ApiKeyScope } from '../../lib/auth';
import { SYSTEM_VIEWER } from '../../lib/entity-client';
import { ServiceUnavailableError } from '../../lib/errors';

export interface ApiKeyVerifierOptions {
  /** The listings service's GraphQL URL (it owns the keys); a function, as embedded mode learns it late. */
  listingsUrl: () => string;
  internalSecret: string;
  /** How long an answer (key or no key) is reused, seconds; also how long a revoked key may still work. 0: ask every time. */
  cacheSeconds: number;
  /** @default 10000 */
  maxEntries?: number;
  now?: () => number;
}

export type ApiKeyVerifier = (secret: string) => Promise<{ id: string; scopes: ApiKeyScope[] } | null>;

/**
 * Asks listings (with a signed system viewer header) which key a secret is, and remembers the
 * answer briefly so a busy client costs one call per API_KEY_CACHE_SECONDS. The cache is keyed by
 * the secret's SHA-256, never the secret.
 */
export function createApiKeyVerifier(options: ApiKeyVerifierOptions): ApiKeyVerifier {
  const cache = new Map<string, { value: { id: string; scopes: ApiKeyScope[] } | null; expires: number }>();
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  return async (secret) => {
    const hash = createHash('sha256').update(secret).digest('hex');
    const hit = cache.get(hash);
    if (hit && hit.expires > now()) return hit.value;
    let res: Response;
    try {
      const body = JSON.stringify({ key: secret });
      const request = { audience: 'listings', path: API_KEY_VERIFY_PATH, body };
      res = await fetch(new URL(API_KEY_VERIFY_PATH, options.listingsUrl()), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [VIEWER_HEADER]: signViewerHeader(SYSTEM_VIEWER, request, options.internalSecret, 30),
        },
        body,
        signal: AbortSignal.timeout(3000),
      });
    } catch {
      throw new ServiceUnavailableError('listings');
    }
    if (res.status !== 200 && res.status !== 404) throw new ServiceUnavailableError('listings');
    const value = res.status === 200 ? ((await res.json()) as { id: string; scopes: ApiKeyScope[] }) : null;
    if (options.cacheSeconds > 0) {
      if (cache.size >= maxEntries) cache.clear();
      cache.set(hash, { value, expires: now() + options.cacheSeconds * 1000 });
    }
    return value;
  };
}
