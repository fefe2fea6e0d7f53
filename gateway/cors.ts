import type http from 'node:http';

/** The hosted Apollo Sandbox; admitted in development so it can explore a local gateway. */
export const APOLLO_SANDBOX_ORIGIN = 'https://studio.apollographql.com';
const LOCAL_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

export interface CorsOptions {
  /** Exact origins allowed. */
  origins: string[];
  /** Also allow the hosted Sandbox and any loopback origin (development). */
  development: boolean;
}

/** A CORS allow-list: listed origins get the CORS headers, others get none (the browser blocks them). */
export function createCors(options: CorsOptions) {
  const allowed = new Set(options.origins);
  if (options.development) allowed.add(APOLLO_SANDBOX_ORIGIN);
  const isAllowed = (origin: string) => allowed.has(origin) || (options.development && LOCAL_ORIGIN.test(origin));
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const origin = req.headers.origin;
    if (origin && isAllowed(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('access-control-expose-headers', 'x-request-id');
    }
    res.setHeader('vary', 'Origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      if (origin && isAllowed(origin)) {
        res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
        res.setHeader(
          'access-control-allow-headers',
          'content-type, authorization, x-api-key, apollo-require-preflight, x-apollo-operation-name, x-request-id, apollographql-client-name, apollographql-client-version',
        );
        res.setHeader('access-control-max-age', '600');
      }
      res.writeHead(204).end();
      return true;
    }
    return false;
  };
}
