import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { UnauthenticatedError } from './errors';

export type Role = 'user' | 'admin';
export const ROLES: readonly Role[] = ['user', 'admin'];

/** What an API key may do (lib/permissions.ts says which operations each scope opens). */
export const API_KEY_SCOPES = [
  'users:read',
  'payments:read',
  'crm:read',
  'crm:write',
  'email:read',
  'email:send',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Who is calling. `userId` is null for an anonymous caller, a service, or an API key. */
export interface Viewer {
  userId: string | null;
  roles: Role[];
  /** Set when the caller presented an API key: its id and scopes (no user, no roles). */
  apiKey?: { id: string; scopes: ApiKeyScope[] };
}

export const ANONYMOUS: Viewer = Object.freeze({ userId: null, roles: [] }) as Viewer;

export const isAdmin = (viewer: Viewer): boolean => viewer.roles.includes('admin');
/** Our own services calling each other (SYSTEM_VIEWER): admin rights and no user; no token can say so, since a JWT needs a subject. */
export const isSystem = (viewer: Viewer): boolean => isAdmin(viewer) && viewer.userId === null && !viewer.apiKey;

/** Header the gateway uses to pass the verified viewer to subgraphs. Stripped from incoming requests. */
export const VIEWER_HEADER = 'x-saypro-viewer';
/** Route on the listings service where the gateway asks which API key a presented secret is. */
export const API_KEY_VERIFY_PATH = '/internal/api-keys/verify';
/** Header carrying the request id from the gateway to subgraphs and back to the client. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** Clock skew tolerated on `exp`/`nbf` of every viewer JWT, in every mode (JWT_CLOCK_SKEW_SECONDS). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;

export interface JwtOptions {
  secret: string;
  issuer?: string;
  audience?: string;
  /** Seconds of clock skew tolerated on exp/nbf. @default 30 */
  clockToleranceSeconds?: number;
}

function normaliseRoles(claims: Record<string, unknown>): Role[] {
  const raw: unknown = claims.roles ?? (claims.role !== undefined ? [claims.role] : []);
  const list = Array.isArray(raw) ? raw : [raw];
  const roles = new Set<Role>(['user']);
  for (const r of list) if (ROLES.includes(r as Role)) roles.add(r as Role);
  return [...roles];
}

/** The JWT in `Authorization: Bearer <JWT>`; undefined without a header; a header of another shape is refused. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/i.exec(header); // the scheme is case-insensitive (RFC 7235)
  if (!match) throw new UnauthenticatedError('Malformed Authorization header: expected "Bearer <JWT>"');
  return match[1]!;
}

/** The viewer of verified claims: `sub` is the user id, `roles`/`role` may add admin. */
export function viewerFromClaims(claims: string | Record<string, unknown>): Viewer {
  if (
    typeof claims === 'string' ||
    typeof claims.sub !== 'string' ||
    claims.sub.length === 0 ||
    claims.sub.length > 128
  ) {
    throw new UnauthenticatedError('Invalid token: missing subject');
  }
  return { userId: claims.sub, roles: normaliseRoles(claims) };
}

/**
 * The one JWT check, with jose, for both modes (the dev HS256 secret, the identity provider's
 * JWKS): only `algorithms`, `sub` and `exp` required, one clock skew, issuer and audience when
 * configured. An expired or invalid token is UNAUTHENTICATED; a key set that cannot be fetched is
 * thrown as it is (the caller's outage, not the client's mistake).
 */
export async function verifyJwt(
  token: string,
  key: Uint8Array | JWTVerifyGetKey,
  options: Omit<JwtOptions, 'secret'> & { algorithms: string[] },
): Promise<Viewer> {
  let payload: JWTPayload;
  try {
    const verifyOptions = {
      algorithms: options.algorithms,
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
      requiredClaims: ['sub', 'exp'],
    };
    ({ payload } =
      typeof key === 'function'
        ? await jwtVerify(token, key, verifyOptions)
        : await jwtVerify(token, key, verifyOptions));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new UnauthenticatedError('Token expired');
    if (
      err instanceof joseErrors.JWKSTimeout ||
      err instanceof joseErrors.JWKSInvalid ||
      !(err instanceof joseErrors.JOSEError)
    )
      throw err;
    throw new UnauthenticatedError('Invalid token');
  }
  return viewerFromClaims(payload);
}

const hmacKey = (secret: string) => new TextEncoder().encode(secret);

/**
 * Reads `Authorization: Bearer <JWT>` signed with the shared HS256 secret. No header means
 * anonymous; a header that is present but malformed, forged, expired, without `exp` or of another
 * scheme is refused, never treated as anonymous.
 */
export async function viewerFromAuthorization(header: string | undefined, options: JwtOptions): Promise<Viewer> {
  const token = bearerToken(header);
  if (token === undefined) return ANONYMOUS;
  try {
    return await verifyJwt(token, hmacKey(options.secret), { ...options, algorithms: ['HS256'] });
  } catch (err) {
    if (err instanceof UnauthenticatedError) throw err;
    throw new UnauthenticatedError('Invalid token');
  }
}

export interface MintOptions extends JwtOptions {
  userId: string;
  roles?: Role[];
  /** Lifetime: seconds, or a span such as `1h`, `7d` (negative for a token already expired, in tests). @default 12h */
  expiresIn?: number | string;
}

/** Mints a viewer JWT (dev tokens, tests): always with an expiry. Production tokens come from the identity provider. */
export async function mintToken(options: MintOptions): Promise<string> {
  const lifetime = options.expiresIn ?? '12h';
  let token = new SignJWT({ roles: options.roles ?? ['user'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.userId)
    .setIssuedAt()
    .setExpirationTime(typeof lifetime === 'number' ? Math.floor(Date.now() / 1000) + lifetime : lifetime);
  if (options.issuer) token = token.setIssuer(options.issuer);
  if (options.audience) token = token.setAudience(options.audience);
  return token.sign(hmacKey(options.secret));
}

/** The one request an internal viewer header is for: which service, which path, which body. */
export interface InternalRequest {
  /** The service that will receive it: a subgraph's name (`listings`, `payments`, `crm`, `email`). */
  audience: string;
  /** URL path on that service, e.g. `/graphql` or `/internal/api-keys/verify`. */
  path: string;
  /** The exact body bytes sent (empty for a GET). */
  body: string | Uint8Array;
}

interface InternalClaims {
  /** user id or null */
  sub: string | null;
  roles: Role[];
  /** API key id and scopes, for an API key caller */
  key?: string;
  scopes?: string[];
  /** the receiving service */
  aud: string;
  /** base64url SHA-256 of `path \n body`: the header is good for this one request only */
  dig: string;
  /** random nonce: each header is accepted once */
  jti: string;
  /** expiry, unix seconds */
  exp: number;
}

const b64 = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');
const hmac = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest();
const digestOf = (request: InternalRequest) =>
  b64(createHash('sha256').update(`${request.path}\n`).update(request.body).digest());

/**
 * The internal viewer header for one request to one service: `v2.<base64url(claims)>.<base64url(hmac)>`,
 * naming its audience, carrying a digest of the path and body and a nonce, and short-lived. Every
 * sender (a gateway engine's subgraph fetch, the entity client, the API key check) signs with this
 * and nothing else, right before sending the bytes it signed.
 */
export function signViewerHeader(
  viewer: Viewer,
  request: InternalRequest,
  secret: string,
  ttlSeconds: number,
  now = Date.now(),
): string {
  const claims: InternalClaims = {
    sub: viewer.userId,
    roles: viewer.roles,
    ...(viewer.apiKey ? { key: viewer.apiKey.id, scopes: viewer.apiKey.scopes } : {}),
    aud: request.audience,
    dig: digestOf(request),
    jti: randomBytes(12).toString('base64url'),
    exp: Math.floor(now / 1000) + ttlSeconds,
  };
  const payload = `v2.${b64(JSON.stringify(claims))}`;
  return `${payload}.${b64(hmac(secret, payload))}`;
}

/**
 * Nonces of headers already accepted, kept until they expire: a header is good once per process.
 * (Another instance of the same service would accept it once more; SECURITY.md says so.) Headers
 * share one lifetime, so the oldest entries are the first to expire: they are dropped from the
 * front as they do, and past `maxEntries` live ones (more than maxEntries requests per lifetime)
 * the oldest is forgotten rather than a request refused; its header stays bound to its request.
 */
export function createReplayGuard(maxEntries = 500_000) {
  const seen = new Map<string, number>();
  return {
    /** True the first time a nonce is offered before its expiry (unix seconds); false after. */
    firstUse(jti: string, exp: number, now = Date.now()): boolean {
      if (seen.has(jti)) return false;
      for (const [id, until] of seen) {
        if (until * 1000 >= now && seen.size < maxEntries) break;
        seen.delete(id);
      }
      seen.set(jti, exp);
      return true;
    },
  };
}
export type ReplayGuard = ReturnType<typeof createReplayGuard>;

/**
 * Verifies the internal viewer header of `request` as the service `request.audience`; throws
 * UnauthenticatedError when absent, forged, expired, for another service or another request, or
 * (with `replay`) offered a second time.
 */
export function verifyViewerHeader(
  header: string | undefined,
  request: InternalRequest,
  secret: string,
  options: { now?: number; replay?: ReplayGuard } = {},
): Viewer {
  const now = options.now ?? Date.now();
  if (!header) throw new UnauthenticatedError('Missing internal viewer header: call the graph through the gateway');
  const parts = header.split('.');
  if (parts.length !== 3 || parts[0] !== 'v2') throw new UnauthenticatedError('Malformed internal viewer header');
  // Compare the canonical encoding, so no other spelling of the same bytes verifies.
  const expected = Buffer.from(b64(hmac(secret, `${parts[0]}.${parts[1]}`)));
  const given = Buffer.from(parts[2]!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new UnauthenticatedError('Invalid internal viewer header signature');
  }
  let claims: InternalClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as InternalClaims;
  } catch {
    throw new UnauthenticatedError('Malformed internal viewer header');
  }
  if (
    claims === null ||
    typeof claims !== 'object' ||
    !Array.isArray(claims.roles) ||
    (claims.sub !== null && typeof claims.sub !== 'string')
  ) {
    throw new UnauthenticatedError('Malformed internal viewer header');
  }
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < now)
    throw new UnauthenticatedError('Internal viewer header expired');
  if (claims.aud !== request.audience) throw new UnauthenticatedError('Internal viewer header is for another service');
  if (typeof claims.dig !== 'string' || claims.dig !== digestOf(request))
    throw new UnauthenticatedError('Internal viewer header is for another request');
  if (options.replay && (typeof claims.jti !== 'string' || !options.replay.firstUse(claims.jti, claims.exp, now))) {
    throw new UnauthenticatedError('Internal viewer header was already used');
  }
  const viewer: Viewer = { userId: claims.sub ?? null, roles: (claims.roles ?? []).filter((r) => ROLES.includes(r)) };
  if (typeof claims.key === 'string') {
    const scopes = Array.isArray(claims.scopes) ? claims.scopes : [];
    // An API key never carries a user or roles.
    return {
      userId: null,
      roles: [],
      apiKey: { id: claims.key, scopes: API_KEY_SCOPES.filter((s) => scopes.includes(s)) },
    };
  }
  return viewer;
}
