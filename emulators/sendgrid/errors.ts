/** One entry of SendGrid's `errors` array. Mail send fills `help`; the marketing API leaves it out. */
export interface SendGridErrorItem {
  message: string;
  field: string | null;
  help?: string | null;
}

export interface SendGridErrorBody {
  errors: SendGridErrorItem[];
}

/** Thrown by route handlers; the server answers with `status`, `headers` and SendGrid's error body. */
export class SendGridApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: SendGridErrorItem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'SendGridApiError';
  }

  get body(): SendGridErrorBody {
    return { errors: this.errors };
  }
}

const MAIL_ERRORS_HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html';

/** The help link SendGrid attaches to each mail send validation error. */
export function mailHelp(anchor: string): string {
  return `${MAIL_ERRORS_HELP}#message.${anchor}`;
}

export function unauthorized(): SendGridApiError {
  return new SendGridApiError(401, [
    { field: null, message: 'The provided authorization grant is invalid, expired, or revoked', help: null },
  ]);
}

/** SendGrid's 429: the body is terse; clients are meant to read X-RateLimit-Reset. */
export function rateLimited(limit = 600): SendGridApiError {
  const reset = Math.floor(Date.now() / 1000) + 1;
  return new SendGridApiError(429, [{ field: null, message: 'too many requests' }], {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': '0',
    'X-RateLimit-Reset': String(reset),
  });
}

export function serverError(status: 500 | 502 | 503 = 500): SendGridApiError {
  return new SendGridApiError(status, [{ field: null, message: 'internal error' }]);
}

export function notFound(message = 'not found', field: string | null = null): SendGridApiError {
  return new SendGridApiError(404, [{ field, message }]);
}

export function badRequest(errors: SendGridErrorItem[]): SendGridApiError {
  return new SendGridApiError(400, errors);
}

export function methodNotAllowed(): SendGridApiError {
  return new SendGridApiError(405, [{ field: null, message: 'method not allowed' }]);
}

/** What SendGrid answers for a body that is not JSON. */
export function malformedJson(): SendGridApiError {
  return new SendGridApiError(400, [{ field: null, message: 'Bad Request', help: null }]);
}

export function payloadTooLarge(): SendGridApiError {
  return new SendGridApiError(413, [{ field: null, message: 'Payload Too Large', help: null }]);
}
