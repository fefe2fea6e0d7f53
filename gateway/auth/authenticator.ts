import type http from 'node:http';
import { createRemoteJWKSet } from 'jose';
import { LRUCache } from 'lru-cache';
import {
  ANONYMOUS,
  bearerToken,
  verifyJwt,
  viewerFromAuthorization,
  type JwtOptions,
  type Viewer,
} from '../../lib/auth';
import { ServiceUnavailableError, UnauthenticatedError } from '../../lib/errors';
import type { ApiKeyVerifier } from './api-key-verifier';

/** The asymmetric algorithms accepted from the identity provider; never HS* or none. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'];

export interface AuthenticatorOptions {
  /** HS256 secret (development, embedded mode), issuer, audience and clock tolerance. */
  jwt: JwtOptions;
  /**
   * The identity provider's JWKS. When set, only RS256/ES256 tokens signed by one of its keys are
   * accepted, and an HS256 token is refused even if it is signed with JWT_SECRET (no algorithm
   * confusion).
   */
  jwksUrl?: string;
  /** Verifies `Authorization: ApiKey <key>` and `X-API-Key: <key>`; without it API keys are refused. */
  apiKeys?: ApiKeyVerifier;
}

/** Who is calling, from the request headers. Throws UNAUTHENTICATED for a credential that does not verify. */
export type Authenticator = (headers: http.IncomingHttpHeaders) => Promise<Viewer>;

const API_KEY_SCHEME = /^ApiKey\s+(\S+)\s*$/i;

/** An API key caller, or a JWT caller (through `jwtViewer`), or anonymous. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const jwtViewer = cacheVerifiedTokens(createJwtAuthenticator(options));
  return async (headers) => {
    const authorization = headers.authorization;
    const headerKey = headers['x-api-key'];
    const schemeKey = authorization ? API_KEY_SCHEME.exec(authorization)?.[1] : undefined;
    if (headerKey === undefined && schemeKey === undefined) return jwtViewer(headers);
    if (authorization && schemeKey === undefined)
      throw new UnauthenticatedError('Send one credential: a Bearer token or an API key, not both');
    const secret = schemeKey ?? (Array.isArray(headerKey) ? undefined : headerKey);
    if (!secret || !options.apiKeys) throw new UnauthenticatedError('Invalid API key');
    const key = await options.apiKeys(secret);
    if (!key) throw new UnauthenticatedError('Invalid API key');
    return { userId: null, roles: [], apiKey: key };
  };
}

function createJwtAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { jwt } = options;
  if (!options.jwksUrl) return async (headers) => viewerFromAuthorization(headers.authorization, jwt);

  // jose caches the key set, refetches on an unknown `kid` (at most every 30 s) and times out after 5 s.
  const keys = createRemoteJWKSet(new URL(options.jwksUrl), {
    timeoutDuration: 5000,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  return async (headers) => {
    const token = bearerToken(headers.authorization);
    if (token === undefined) return ANONYMOUS;
    try {
      return await verifyJwt(token, keys, {
        issuer: jwt.issuer,
        audience: jwt.audience,
        clockToleranceSeconds: jwt.clockToleranceSeconds,
        algorithms: JWKS_ALGORITHMS,
      });
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw err;
      // The key set could not be fetched: our outage, not a bad token.
      throw new ServiceUnavailableError('identity provider');
    }
  };
}

export interface TokenCacheOptions {
  /** Tokens remembered at once (least recently used go first). @default 10000 */
  max?: number;
  /** Longest a verified token is reused without checking its signature again. @default 60000 */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Bearer tokens already verified, reused until their `exp` (and for at most `maxAgeMs`): a client
 * sends the same token with every request, and checking its signature every time was among the
 * gateway's own costs per request in the gateway benchmark's profile. Only successes are kept
 * (a refused token is checked again each time), keyed by the whole token, so a changed byte is a
 * new token; an entry never outlives the token's expiry, so an expired token is refused as before.
 */
export function cacheVerifiedTokens(verify: Authenticator, options: TokenCacheOptions = {}): Authenticator {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const verified = new LRUCache<string, { viewer: Viewer; until: number }>({ max: options.max ?? 10_000 });
  return async (headers) => {
    const token = bearerToken(headers.authorization);
    if (token === undefined) return verify(headers);
    const known = verified.get(token);
    if (known && known.until > now()) return known.viewer;
    const viewer = await verify(headers);
    const exp = expiryOf(token);
    if (exp !== undefined) verified.set(token, { viewer, until: Math.min(exp * 1000, now() + maxAgeMs) });
    return viewer;
  };
}

/** The `exp` claim of a token that has just verified (so its payload is ours to read). */
function expiryOf(token: string): number | undefined {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}
