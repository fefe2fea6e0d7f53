/** One entry of a PayPal error's `details`. */
export interface ErrorDetail {
  issue: string;
  description?: string;
  field?: string;
  value?: string;
  location?: 'body' | 'path' | 'query' | 'header';
}

/** The REST APIs' error body; OAuth answers `{ error, error_description }` instead. */
export type PayPalErrorBody =
  | { name: string; message: string; details?: ErrorDetail[] }
  | { error: string; error_description: string };

/** An answer in PayPal's error format; handlers throw it, the server adds `debug_id` and links. */
export class PayPalApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: PayPalErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super('message' in body ? body.message : body.error_description);
    this.name = 'PayPalApiError';
  }
}

const API_DOCS = 'https://developer.paypal.com/api/rest/reference/orders/v2/errors/';

/** The body as PayPal sends it: `debug_id` beside the name, an information link per issue. */
export function renderError(body: PayPalErrorBody, debugId: string): Record<string, unknown> {
  if ('error' in body) return { ...body };
  const issues = body.details?.map((detail) => detail.issue) ?? [];
  return {
    name: body.name,
    message: body.message,
    debug_id: debugId,
    ...(body.details ? { details: body.details } : {}),
    links: (issues.length ? issues : [body.name]).map((issue) => ({
      href: `${API_DOCS}#${issue.toLowerCase()}`,
      rel: 'information_link',
      method: 'GET',
    })),
  };
}

/** 400 INVALID_REQUEST: malformed or against the schema. */
export const invalidRequest = (...details: ErrorDetail[]) =>
  new PayPalApiError(400, {
    name: 'INVALID_REQUEST',
    message: 'Request is not well-formed, syntactically incorrect, or violates schema.',
    details,
  });

/** 422 UNPROCESSABLE_ENTITY: well-formed, but the business rules say no. */
export const unprocessable = (issue: string, description: string, extra: Partial<ErrorDetail> = {}) =>
  new PayPalApiError(422, {
    name: 'UNPROCESSABLE_ENTITY',
    message: 'The requested action could not be performed, semantically incorrect, or failed business validation.',
    details: [{ issue, description, ...extra }],
  });

export const resourceNotFound = (id: string) =>
  new PayPalApiError(404, {
    name: 'RESOURCE_NOT_FOUND',
    message: 'The specified resource does not exist.',
    details: [
      {
        issue: 'INVALID_RESOURCE_ID',
        description: 'Specified resource ID does not exist. Please check the resource ID and try again.',
        value: id,
        location: 'path',
      },
    ],
  });

export const notFoundRoute = (method: string, path: string) =>
  new PayPalApiError(404, { name: 'NOT_FOUND', message: `The requested resource (${method} ${path}) was not found.` });

/** No Authorization header, or one that is not a bearer token we issued. */
export const authenticationFailure = () =>
  new PayPalApiError(401, {
    name: 'AUTHENTICATION_FAILURE',
    message: 'Authentication failed due to invalid authentication credentials or a missing Authorization header.',
  });

/** A token we issued whose time is up (or that a fault made so). */
export const expiredToken = () =>
  new PayPalApiError(401, { error: 'invalid_token', error_description: 'The token passed in was found to be expired' });

export const invalidClient = () =>
  new PayPalApiError(
    401,
    { error: 'invalid_client', error_description: 'Client Authentication failed' },
    { 'WWW-Authenticate': 'Basic realm="PayPal"' },
  );

export const unsupportedGrantType = (grantType: string | null) =>
  new PayPalApiError(400, {
    error: 'unsupported_grant_type',
    error_description: grantType ? `unsupported grant_type: ${grantType}` : 'Grant Type is NULL',
  });

export const rateLimited = () =>
  new PayPalApiError(
    429,
    { name: 'RATE_LIMIT_REACHED', message: 'Too many requests. Blocked due to rate limiting.' },
    { 'Retry-After': '1' },
  );

export const internalError = (status = 500) =>
  new PayPalApiError(status, {
    name: status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR',
    message: 'An internal server error has occurred.',
  });

/** Two requests with one PayPal-Request-Id at once: the second is refused until the first is done. */
export const previousRequestInProgress = () =>
  unprocessable(
    'PREVIOUS_REQUEST_IN_PROGRESS',
    'A previous request on this resource is currently in progress. Please wait for some time and try again.',
  );

/** A PayPal-Request-Id already used for another operation or resource. */
export const requestIdReused = (requestId: string) =>
  unprocessable(
    'PAYPAL_REQUEST_ID_PREVIOUSLY_USED',
    'The PayPal-Request-Id has already been used for another request.',
    { field: 'PayPal-Request-Id', value: requestId, location: 'header' },
  );
