import { sendHtml } from '../shared/html';
import type http from 'node:http';
import { HttpError, readBody, sendJson } from '../../lib/http';
import type { Logger } from '../../lib/logger';
import { renderError, StripeApiError } from './errors';
import { FaultValidationError, validateFaults, type StripeFault } from './faults';
import { parseForm } from './form';
import { renderAuthenticatePage, renderPage, type EmulatorState } from './page';
import type { PaymentIntent } from './types';

export interface AdminDeps {
  logger: Logger;
  state: () => EmulatorState;
  findIntent: (id: string) => PaymentIntent | undefined;
  setFaults: (faults: StripeFault[]) => void;
  clearFaults: () => void;
  reset: () => void;
  completeAction: (id: string, outcome: 'succeeded' | 'failed') => PaymentIntent;
}

const MAX_BODY_BYTES = 64 * 1024;

/** JSON bodies from tests and scripts; the 3-D Secure page posts a form instead. */
async function readAdminBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const raw = (await readBody(req, MAX_BODY_BYTES)).toString('utf8');
  if (!raw.trim()) return {};
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) return parseForm(raw);
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'Body must be a JSON object');
}

/**
 * `/__emulator…`: the page, the state as JSON, faults, reset and 3-D Secure completion. No auth:
 * the emulator listens on loopback unless told otherwise.
 */
export function createAdminHandler(deps: AdminDeps) {
  return async function handleAdmin(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    requestId: string,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const headers = { 'Request-Id': requestId, 'Cache-Control': 'no-store' };
    const json = (status: number, body: unknown) => sendJson(res, status, body, headers);
    const fail = (status: number, message: string) => json(status, { error: { message } });
    try {
      if (method === 'GET' && path === '/__emulator') return sendHtml(res, 200, renderPage(deps.state()), headers);
      if (method === 'GET' && path === '/__emulator/state') return json(200, deps.state());
      if (path === '/__emulator/faults' && method === 'POST') {
        const body = await readAdminBody(req);
        try {
          deps.setFaults(validateFaults(body.faults));
        } catch (err) {
          if (err instanceof FaultValidationError) return fail(400, err.message);
          throw err;
        }
        return json(200, { faults: deps.state().faults });
      }
      if (path === '/__emulator/faults' && method === 'DELETE') {
        deps.clearFaults();
        return json(200, { faults: [] });
      }
      if (path === '/__emulator/reset' && method === 'POST') {
        deps.reset();
        return json(200, { reset: true });
      }
      const action = /^\/__emulator\/payment_intents\/([^/]+)\/(complete_action|authenticate)$/.exec(path);
      if (action) {
        const id = decodeURIComponent(action[1]);
        const returnUrl = url.searchParams.get('return_url') ?? undefined;
        if (action[2] === 'authenticate' && method === 'GET') {
          const intent = deps.findIntent(id);
          if (!intent) return fail(404, `No such payment_intent: '${id}'`);
          return sendHtml(res, 200, renderAuthenticatePage(intent, returnUrl), headers);
        }
        if (action[2] === 'complete_action' && method === 'POST') {
          const body = await readAdminBody(req);
          const outcome = body.outcome ?? 'succeeded';
          if (outcome !== 'succeeded' && outcome !== 'failed')
            return fail(400, 'outcome must be "succeeded" or "failed"');
          const intent = deps.completeAction(id, outcome);
          if (!returnUrl) return json(200, intent);
          // Back to the merchant the way Stripe redirects after 3-D Secure.
          let target: URL;
          try {
            target = new URL(returnUrl);
          } catch {
            return fail(400, 'return_url must be an absolute URL');
          }
          target.searchParams.set('payment_intent', intent.id);
          target.searchParams.set('payment_intent_client_secret', intent.client_secret);
          target.searchParams.set('redirect_status', intent.status === 'succeeded' ? 'succeeded' : 'failed');
          res.writeHead(303, { location: target.toString(), ...headers });
          res.end();
          return;
        }
      }
      fail(404, `No emulator route ${method} ${path}`);
    } catch (err) {
      if (err instanceof StripeApiError) return json(err.status, renderError(err.body, undefined));
      if (err instanceof HttpError) return fail(err.status, err.message);
      deps.logger.error({ err, method, path }, 'stripe emulator admin request failed');
      fail(500, 'Internal error');
    }
  };
}
