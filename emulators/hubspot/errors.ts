import { randomUUID } from 'node:crypto';

/** One entry of `errors` in a HubSpot error body (the SDK keeps these as `ErrorDetail`). */
export interface HubSpotErrorDetail {
  message: string;
  code?: string;
  subCategory?: string;
  context?: Record<string, string[]>;
}

/**
 * HubSpot's error body. The SDK hands it over unchanged as `ApiException.body` (its `Error` model
 * is registered as `ModelError`, so the lookup misses and the parsed JSON passes through); its retry
 * decorator reads `policyName` and `message` from there.
 */
export interface HubSpotErrorBody {
  status: 'error';
  message: string;
  correlationId: string;
  category?: string;
  subCategory?: string;
  context?: Record<string, string[]>;
  errors?: HubSpotErrorDetail[];
  errorType?: string;
  policyName?: string;
  groupName?: string;
}

/** Thrown by route handlers; the server answers with `status`, `headers` and `body`. */
export class HubSpotApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: HubSpotErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.name = 'HubSpotApiError';
  }
}

function apiError(
  status: number,
  fields: Omit<HubSpotErrorBody, 'status' | 'correlationId'>,
  headers?: Record<string, string>,
): HubSpotApiError {
  return new HubSpotApiError(status, { status: 'error', ...fields, correlationId: randomUUID() }, headers);
}

/** One failed property of a write, in the shape HubSpot embeds (as JSON) in its message. */
export interface PropertyValueError {
  isValid: false;
  message: string;
  error: string;
  name: string;
  localizedErrorMessage: string;
}

export function propertyValueError(name: string, error: string, message: string): PropertyValueError {
  return { isValid: false, message, error, name, localizedErrorMessage: message };
}

/** HubSpot serialises the failures into the message itself; `errors` repeats them readably. */
export function invalidPropertyValues(failures: PropertyValueError[]): HubSpotApiError {
  return apiError(400, {
    message: `Property values were not valid: ${JSON.stringify(failures)}`,
    category: 'VALIDATION_ERROR',
    errors: failures.map((f) => ({ message: f.message, code: f.error, context: { propertyName: [f.name] } })),
  });
}

export function validationError(message: string, context?: Record<string, string[]>): HubSpotApiError {
  return apiError(400, { message, category: 'VALIDATION_ERROR', ...(context ? { context } : {}) });
}

export function malformedJson(detail: string): HubSpotApiError {
  return apiError(400, { message: `Invalid input JSON: ${detail}`, category: 'VALIDATION_ERROR' });
}

export function unauthorized(tokenGiven: boolean): HubSpotApiError {
  return apiError(401, {
    message: tokenGiven
      ? 'Authentication credentials not found. The access token provided is not valid for this emulator.'
      : 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
    category: 'INVALID_AUTHENTICATION',
  });
}

export interface RateLimitHeaders {
  [name: string]: string;
}

/** The account-wide rolling window (the policy the SDK's retry decorator looks for). */
export function tenSecondlyRollingLimited(headers: RateLimitHeaders): HubSpotApiError {
  return apiError(
    429,
    {
      message: 'You have reached your ten_secondly_rolling limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: 'publicapi:oauth:emulator',
    },
    headers,
  );
}

/** The search endpoints' own per-second limit; the SDK recognises it by this exact message. */
export function secondlyLimited(headers: RateLimitHeaders): HubSpotApiError {
  return apiError(
    429,
    {
      message: 'You have reached your secondly limit.',
      errorType: 'RATE_LIMIT',
      policyName: 'SECONDLY',
      groupName: 'publicapi:crm-search',
    },
    headers,
  );
}

export function objectNotFound(id: string): HubSpotApiError {
  return apiError(404, {
    message: 'Object not found.  objectId are usually numeric.',
    category: 'OBJECT_NOT_FOUND',
    context: { id: [id] },
  });
}

export function contactExists(existingId: string): HubSpotApiError {
  return apiError(409, { message: `Contact already exists. Existing ID: ${existingId}`, category: 'CONFLICT' });
}

export function propertyExists(name: string): HubSpotApiError {
  return apiError(409, {
    message: `Property named '${name}' already exists.`,
    category: 'OBJECT_ALREADY_EXISTS',
    subCategory: 'PropertyError.PROPERTY_EXISTS',
    context: { name: [name] },
  });
}

export function propertyNotFound(name: string): HubSpotApiError {
  return apiError(404, {
    message: `Property ${name} does not exist`,
    category: 'OBJECT_NOT_FOUND',
    subCategory: 'PropertyError.PROPERTY_NOT_FOUND',
    context: { name: [name] },
  });
}

export function serverError(status: 500 | 502 | 503 = 500): HubSpotApiError {
  const message = status === 500 ? 'internal error' : status === 502 ? 'Bad Gateway' : 'Service Unavailable';
  return apiError(status, { message, category: status === 500 ? 'INTERNAL_ERROR' : 'SERVICE_UNAVAILABLE' });
}

export function outage(): HubSpotApiError {
  return apiError(503, {
    message: 'HubSpot is temporarily unavailable (emulated outage).',
    category: 'SERVICE_UNAVAILABLE',
  });
}

/** Unknown route. A `//` in the path is almost always a basePath given with a trailing slash. */
export function routeNotFound(method: string, path: string): HubSpotApiError {
  const hint = path.includes('//') ? ' (the path has "//": give basePath without a trailing slash)' : '';
  return apiError(404, { message: `No route for ${method} ${path}${hint}`, category: 'OBJECT_NOT_FOUND' });
}

export function methodNotAllowed(method: string, path: string): HubSpotApiError {
  return apiError(405, { message: `Method ${method} is not allowed on ${path}`, category: 'BAD_REQUEST' });
}

export function payloadTooLarge(limit: number): HubSpotApiError {
  return apiError(413, { message: `Request body larger than ${limit} bytes`, category: 'BAD_REQUEST' });
}
