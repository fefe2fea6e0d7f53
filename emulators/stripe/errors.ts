import type { PaymentIntent, PaymentMethod } from './types';

export type StripeErrorType =
  | 'api_error'
  | 'card_error'
  | 'idempotency_error'
  | 'invalid_request_error'
  | 'rate_limit_error';

/** The `error` member of a Stripe error response. */
export interface StripeErrorBody {
  type: StripeErrorType;
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  charge?: string;
  payment_intent?: PaymentIntent;
  payment_method?: PaymentMethod;
}

export interface StripeApiErrorOptions {
  /**
   * Whether an idempotent request keeps this answer. Stripe saves a result only once the endpoint
   * started executing: a request refused by parameter validation is not saved and may be retried
   * with other parameters under the same key.
   */
  saved?: boolean;
  headers?: Record<string, string>;
}

/** An answer in Stripe's error format; handlers throw it, the server renders it. */
export class StripeApiError extends Error {
  readonly saved: boolean;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    options: StripeApiErrorOptions = {},
  ) {
    super(body.message);
    this.name = 'StripeApiError';
    this.saved = options.saved ?? false;
    this.headers = options.headers ?? {};
  }
}

export const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;
export const requestLogUrl = (requestId: string) => `https://dashboard.stripe.com/test/logs/${requestId}`;

/** Stripe's JSON: keys in alphabetical order, `doc_url` for coded errors, a link to the request log. */
export function renderError(body: StripeErrorBody, requestId: string | undefined): { error: Record<string, unknown> } {
  const full: Record<string, unknown> = { ...body };
  if (body.code) full.doc_url = docUrl(body.code);
  if (requestId) full.request_log_url = requestLogUrl(requestId);
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(full).sort()) if (full[key] !== undefined) sorted[key] = full[key];
  return { error: sorted };
}

export function invalidRequest(
  message: string,
  extra: { param?: string; code?: string; status?: number; saved?: boolean } = {},
): StripeApiError {
  return new StripeApiError(
    extra.status ?? 400,
    { type: 'invalid_request_error', message, code: extra.code, param: extra.param },
    { saved: extra.saved },
  );
}

export const parameterMissing = (param: string) =>
  invalidRequest(`Missing required param: ${param}.`, { param, code: 'parameter_missing' });

export const unknownParameter = (param: string) =>
  invalidRequest(`Received unknown parameter: ${param}`, { param, code: 'parameter_unknown' });

export const invalidInteger = (param: string, raw: string) =>
  invalidRequest(`Invalid integer: ${raw}`, { param, code: 'parameter_invalid_integer' });

/** A missing object named in the URL is a 404; one named by a parameter is a 400. */
export const resourceMissing = (kind: string, id: string, param: string, status: 400 | 404 = 404) =>
  invalidRequest(`No such ${kind}: '${id}'`, { param, code: 'resource_missing', status });

export const unrecognizedUrl = (method: string, path: string) =>
  invalidRequest(
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    { status: 404 },
  );

/** Stripe shows the key's prefix and its last four characters. */
export function maskKey(key: string): string {
  const prefix = /^[a-z]+_(test|live)_/.exec(key)?.[0] ?? '';
  const rest = key.slice(prefix.length);
  const visible = rest.length > 4 ? rest.slice(-4) : '';
  return `${prefix}${'*'.repeat(rest.length - visible.length)}${visible}`;
}

export const missingApiKey = () =>
  invalidRequest(
    "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    { status: 401 },
  );

export const invalidApiKey = (key: string) =>
  invalidRequest(`Invalid API Key provided: ${maskKey(key)}`, { status: 401 });

export const rateLimited = (shouldRetry: boolean) =>
  new StripeApiError(
    429,
    {
      type: 'rate_limit_error',
      code: 'rate_limit',
      message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
    },
    { headers: shouldRetry ? { 'Stripe-Should-Retry': 'true' } : {} },
  );

export const apiError = (status: number) =>
  new StripeApiError(status, {
    type: 'api_error',
    message:
      'An unknown error occurred. Please try again later or contact Stripe support at https://support.stripe.com/.',
  });

export const idempotencyParamsMismatch = (key: string) =>
  new StripeApiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });

export const idempotencyEndpointMismatch = (key: string) =>
  new StripeApiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${key}'). Try using a key other than '${key}' if you meant to execute a different request.`,
  });

export const idempotencyInFlight = (key: string) =>
  new StripeApiError(409, {
    type: 'idempotency_error',
    code: 'idempotency_key_in_use',
    message: `There is currently another in-progress request using this Stripe-Idempotency-Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
  });

export const idempotencyKeyTooLong = (length: number) =>
  invalidRequest(`Idempotency keys can be at most 255 characters long; the one provided has ${length}.`);
