import http from 'node:http';
import type pino from 'pino';
import { PAYPAL_EMULATOR_APP } from '../../lib/config';
import { closeServer, HttpError, listen as listenOn, readBody, sendJson, urlOf } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { handleFaultRoutes } from '../shared/admin';
import { createFaultBook, FaultValidationError } from '../shared/faults';
import { createHangs } from '../shared/hangs';
import { sendHtml } from '../shared/html';
import { createStateFile } from '../shared/state-file';
import {
  authenticationFailure,
  expiredToken,
  internalError,
  invalidClient,
  invalidRequest,
  notFoundRoute,
  PayPalApiError,
  rateLimited,
  renderError,
  unsupportedGrantType,
} from './errors';
import { parseFault, validateFaults, type PayPalFault } from './faults';
import { createRequestIds, type ApiAnswer, type Made, type RequestIdOutcome } from './idempotency';
import { isoNow, newDebugId, newEventId } from './ids';
import { createTokenStore, type Client } from './oauth';
import {
  approveOrder,
  captureOrder,
  createOrder,
  getCapture,
  getOrder,
  getRefund,
  isExpired,
  liveOrder,
  refundCapture,
  renderMade,
  settlePendingCapture,
  type OrdersContext,
} from './orders';
import {
  PAGE_CSP,
  renderActivity,
  renderCheckout,
  renderCheckoutMessage,
  type EmulatorState,
  type RecordedRequest,
} from './pages';
import {
  captureJson,
  createStore,
  FUNDINGS,
  orderJson,
  refundJson,
  type Funding,
  type PayPalEvent,
  type StoredOrder,
} from './store';
import { parseSavedState, snapshotOf, STATE_VERSION, storeFrom } from './saved-state';
import { CERT_PATH, createPayPalWebhooks, createSigner } from './webhooks';

export type { PayPalFault } from './faults';
export type { EmulatorState, RecordedRequest } from './pages';
export type { Funding, PayPalEvent } from './store';
export type { WebhookDelivery } from '../shared/webhooks';

/** The REST app the emulator knows when none is configured (what embedded mode and tests use). */
export const EMULATOR_CLIENT: Client = { id: PAYPAL_EMULATOR_APP.clientId, secret: PAYPAL_EMULATOR_APP.clientSecret };
/** The webhook id deliveries are signed for when none is configured. */
export const EMULATOR_WEBHOOK_ID = PAYPAL_EMULATOR_APP.webhookId;

export interface PayPalEmulatorOptions {
  /** REST apps whose client credentials the token endpoint accepts. @default [EMULATOR_CLIENT] */
  clients?: Client[];
  /** `expires_in` of issued access tokens, seconds (PayPal's are about 9 hours). @default 32400 */
  tokenLifetimeSeconds?: number;
  /** How long an order nobody approved lives, ms. @default 10800000 (3 hours) */
  orderTtlMs?: number;
  /** Where events are POSTed; none when unset. */
  webhookUrl?: string;
  /** The webhook id signatures are made for (PAYPAL_WEBHOOK_ID on the receiving side). @default EMULATOR_WEBHOOK_ID */
  webhookId?: string;
  /** Delays before each webhook retry, ms (PayPal retries up to 25 times over 3 days). @default [1000, 5000, 30000, 120000, 600000] */
  webhookRetryDelaysMs?: number[];
  /**
   * A JSON file that keeps orders, captures, refunds, events and PayPal-Request-Ids across
   * restarts (saved-state.ts says what); in memory only when unset.
   */
  stateFile?: string;
  /** How long after a change the state file is written, ms. @default 250 */
  stateSaveDelayMs?: number;
  logger?: pino.Logger;
}

export interface PayPalEmulator {
  server: http.Server;
  /** Listens (default port 0, host 127.0.0.1) and returns the base URL like http://127.0.0.1:PORT */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  /** Writes the state file now, with every change so far (nothing without a state file). */
  saveState(): Promise<void>;
  setWebhookUrl(url: string | undefined): void;
  setTokenLifetime(seconds: number): void;
  setOrderTtl(ms: number): void;
  setFaults(faults: PayPalFault[]): void;
  clearFaults(): void;
  /** Forgets orders, captures, refunds, events, tokens, request ids, requests, faults and pending deliveries; keeps settings. */
  reset(): void;
  state(): EmulatorState;
  /** What the payer's click on the approval page does, for tests that do not drive a browser. */
  approve(orderId: string, funding?: Funding): void;
  /** Ends an unapproved order's life now (as if its time had run out). */
  expireOrder(orderId: string): void;
  /** Clears or denies a PENDING capture (PAYMENT.CAPTURE.COMPLETED or .DENIED follows). */
  settleCapture(captureId: string, outcome: 'COMPLETED' | 'DECLINED'): void;
  /** Makes every access token issued so far expired, without telling the clients. */
  expireTokens(): number;
  /** Resolves when no webhook delivery is pending or in flight, releasing held out-of-order events first. */
  flushWebhooks(): Promise<void>;
  /** The PEM the signing certificate URL serves. */
  publicKey(): string;
}

const DEFAULT_RETRY_DELAYS_MS = [1000, 5000, 30000, 120000, 600000];
const MAX_BODY_BYTES = 1024 * 1024;
const LOG_LIMIT = 1000;

const headerOf = (req: http.IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

type Route = {
  method: 'GET' | 'POST';
  pattern: RegExp;
  /** Takes a PayPal-Request-Id (the writes). */
  idempotent?: boolean;
  /** The route `drop_after_capture` applies to. */
  captures?: boolean;
  /** Reads answer at once; writes say what they made, which is rendered (and replayed for a repeated request id). */
  run: (ctx: OrdersContext, call: Call, ids: string[]) => { made: Made } | ApiAnswer;
};
interface Call {
  clientId: string;
  body: Record<string, unknown>;
  representation: boolean;
}

const ROUTES: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v2\/checkout\/orders$/,
    idempotent: true,
    run: (ctx, call) => createOrder(ctx, call.clientId, call.body, call.representation),
  },
  {
    method: 'GET',
    pattern: /^\/v2\/checkout\/orders\/([^/]+)$/,
    run: (ctx, call, [id]) => getOrder(ctx, call.clientId, id!),
  },
  {
    method: 'POST',
    pattern: /^\/v2\/checkout\/orders\/([^/]+)\/capture$/,
    idempotent: true,
    captures: true,
    run: (ctx, call, [id]) => captureOrder(ctx, call.clientId, id!, call.representation),
  },
  {
    method: 'GET',
    pattern: /^\/v2\/payments\/captures\/([^/]+)$/,
    run: (ctx, call, [id]) => getCapture(ctx, call.clientId, id!),
  },
  {
    method: 'POST',
    pattern: /^\/v2\/payments\/captures\/([^/]+)\/refund$/,
    idempotent: true,
    run: (ctx, call, [id]) => ({ made: refundCapture(ctx, call.clientId, id!, call.body, call.representation) }),
  },
  {
    method: 'GET',
    pattern: /^\/v2\/payments\/refunds\/([^/]+)$/,
    run: (ctx, call, [id]) => getRefund(ctx, call.clientId, id!),
  },
];

function matchRoute(method: string, path: string): { route: Route; ids: string[] } | undefined {
  for (const route of ROUTES) {
    const match = route.method === method ? route.pattern.exec(path) : null;
    if (match) return { route, ids: match.slice(1).map((part) => decodeURIComponent(part)) };
  }
  return undefined;
}

function parseJson(raw: string): Record<string, unknown> {
  if (!raw.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw invalidRequest({
    issue: 'MALFORMED_REQUEST_JSON',
    description: 'The request JSON is not well formed.',
    location: 'body',
  });
}

/** Thrown into a hanging request when the emulator is reset or closed. */
class Cancelled extends Error {}

export function createPayPalEmulator(options: PayPalEmulatorOptions = {}): PayPalEmulator {
  const logger = (options.logger ?? createLogger({ level: 'silent' })).child({ emulator: 'paypal' });
  const tokens = createTokenStore(options.clients ?? [EMULATOR_CLIENT], options.tokenLifetimeSeconds ?? 32_400);
  let store = createStore();
  let requestLog: RecordedRequest[] = [];
  let webhookUrl = options.webhookUrl;
  const webhookId = options.webhookId ?? EMULATOR_WEBHOOK_ID;
  let orderTtlMs = options.orderTtlMs ?? 3 * 60 * 60 * 1000;
  let baseUrl = 'http://127.0.0.1';
  const faults = createFaultBook<PayPalFault>(validateFaults, '/v2');
  const requestIds = createRequestIds();
  const hangs = createHangs();
  const signer = createSigner(() => webhookId);
  const stateFile = options.stateFile
    ? createStateFile({
        file: options.stateFile,
        emulator: 'paypal',
        version: STATE_VERSION,
        snapshot: () => snapshotOf(store, requestIds.saved()),
        logger,
        delayMs: options.stateSaveDelayMs,
      })
    : undefined;
  const restored = stateFile?.load(parseSavedState);
  if (restored) {
    store = storeFrom(restored);
    requestIds.restore(restored.requestIds);
    logger.info(
      { file: options.stateFile, orders: store.orders.size, captures: store.captures.size },
      'paypal emulator state restored',
    );
  }
  const webhooks = createPayPalWebhooks({
    signer,
    certUrl: () => `${baseUrl}${CERT_PATH}`,
    retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    timeoutMs: 10_000,
    logger,
  });

  function context(base = baseUrl): OrdersContext {
    return {
      store,
      base,
      orderTtlMs,
      emit(type, resourceType, resource, summary) {
        const event: PayPalEvent = {
          id: newEventId(),
          event_version: '1.0',
          create_time: isoNow(),
          resource_type: resourceType,
          resource_version: '2.0',
          event_type: type,
          summary,
          resource,
          links: [],
        };
        event.links = [
          { href: `${base}/v1/notifications/webhooks-events/${event.id}`, rel: 'self', method: 'GET' },
          { href: `${base}/v1/notifications/webhooks-events/${event.id}/resend`, rel: 'resend', method: 'POST' },
        ];
        store.events.push(event);
        if (!webhookUrl) return;
        const duplicate = faults.take(['webhook_duplicate']);
        webhooks.send(event, webhookUrl, { copies: duplicate ? 2 : 1, hold: faults.takeHold('webhook_out_of_order') });
      },
    };
  }

  function record(entry: RecordedRequest): void {
    requestLog.push(entry);
    if (requestLog.length > LOG_LIMIT) requestLog = requestLog.slice(-LOG_LIMIT);
    logger.debug(entry, 'paypal emulator request');
  }

  /** Basic `client_id:secret` → the client, or 401 invalid_client. */
  function basicClient(req: http.IncomingMessage): Client {
    const header = headerOf(req, 'authorization')?.trim() ?? '';
    const match = /^basic\s+(.+)$/i.exec(header);
    if (!match) throw invalidClient();
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const client = colon < 0 ? undefined : tokens.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
    if (!client) throw invalidClient();
    return client;
  }

  /** Bearer token → its client; 401 for none, for an unknown one, and for one past its time. */
  function bearerClient(req: http.IncomingMessage, path: string): string {
    const header = headerOf(req, 'authorization')?.trim() ?? '';
    const match = /^bearer\s+(\S+)$/i.exec(header);
    if (!match) throw authenticationFailure();
    const token = match[1]!;
    const found = tokens.check(token);
    if (found === 'unknown') throw authenticationFailure();
    if (found === 'expired') throw expiredToken();
    if (faults.take(['token_expired'], path)) {
      tokens.expire(token);
      throw expiredToken();
    }
    return found.clientId;
  }

  async function handleApi(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    debugId: string,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const requestId = method === 'POST' ? headerOf(req, 'paypal-request-id') : undefined;
    const base = req.headers.host ? `http://${req.headers.host}` : baseUrl;
    const at = new Date().toISOString();
    let replayed = false;
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      sendJson(res, status, body, {
        'paypal-debug-id': debugId,
        'cache-control': 'max-age=0, no-cache, no-store, must-revalidate',
        ...extra,
      });
      record({
        at,
        method,
        path,
        status,
        debugId,
        ...(requestId ? { requestId } : {}),
        ...(replayed ? { replayed } : {}),
      });
    };
    let outcome: RequestIdOutcome | undefined;
    try {
      const raw = method === 'POST' ? (await readBody(req, MAX_BODY_BYTES)).toString('utf8') : '';
      if (path === '/v1/oauth2/token' && method === 'POST') return await token(req, res, raw, path, answer);
      if (path === CERT_PATH && method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/x-pem-file', 'paypal-debug-id': debugId });
        res.end(signer.publicPem);
        return;
      }
      const clientId = bearerClient(req, path);
      const failure = faults.take(['rate_limit', 'server_error'], path);
      if (failure?.kind === 'rate_limit') throw rateLimited();
      if (failure?.kind === 'server_error') throw internalError(failure.status ?? 500);

      if (path === '/v1/notifications/verify-webhook-signature' && method === 'POST')
        return answer(200, { verification_status: signer.verify(parseJson(raw)) });
      const event = /^\/v1\/notifications\/webhooks-events\/([^/]+)$/.exec(path);
      if (event && method === 'GET') {
        const found = store.events.find((candidate) => candidate.id === event[1]);
        if (!found) throw notFoundRoute(method, path);
        return answer(200, found);
      }
      const matched = matchRoute(method, path);
      if (!matched) throw notFoundRoute(method, path);
      const call: Call = {
        clientId,
        body: method === 'POST' ? parseJson(raw) : {},
        representation: /return=representation/i.test(headerOf(req, 'prefer') ?? ''),
      };
      if (requestId !== undefined && (requestId.length < 1 || requestId.length > 108)) {
        throw invalidRequest({
          field: 'PayPal-Request-Id',
          value: requestId,
          issue: 'INVALID_STRING_LENGTH',
          description: 'The value of a field is either too short or too long.',
          location: 'header',
        });
      }

      if (requestId && matched.route.idempotent) {
        outcome = requestIds.begin(clientId, requestId, `${method} ${path}`);
        if (outcome.kind === 'replay') {
          replayed = true;
          const again = renderMade(context(base), outcome.made);
          outcome = undefined;
          return answer(again.status, again.body);
        }
      }
      // Slow work: a request id stays in flight meanwhile, as on PayPal.
      const hang = faults.take(['hang'], path);
      if (hang && !(await hangs.hold(hang.ms, res))) throw new Cancelled();
      const result = matched.route.run(context(base), call, matched.ids);
      const made = 'made' in result ? result.made : undefined;
      if (outcome?.kind === 'first' && made) outcome.save(made);
      outcome = undefined;
      if (matched.route.captures && faults.take(['drop_after_capture'])) {
        res.socket?.destroy();
        record({ at, method, path, status: 'dropped', debugId, ...(requestId ? { requestId } : {}) });
        return;
      }
      const { status, body } = made ? renderMade(context(base), made) : (result as ApiAnswer);
      answer(status, body);
    } catch (err) {
      if (outcome?.kind === 'first') outcome.release();
      if (err instanceof Cancelled) {
        res.destroy();
        return;
      }
      const apiError =
        err instanceof PayPalApiError
          ? err
          : err instanceof HttpError
            ? new PayPalApiError(err.status, {
                name: err.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST',
                message: err.message,
              })
            : undefined;
      if (!apiError) logger.error({ err, method, path }, 'paypal emulator failed');
      const e = apiError ?? internalError();
      answer(e.status, renderError(e.body, debugId), e.headers);
    }
  }

  /** `POST /v1/oauth2/token`: client credentials (Basic) and `grant_type=client_credentials`, form-encoded. */
  async function token(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    raw: string,
    path: string,
    answer: (status: number, body: unknown) => void,
  ): Promise<void> {
    tokens.countRequest();
    const down = faults.take(['token_unavailable']);
    if (down?.drop) {
      res.socket?.destroy();
      return;
    }
    if (down) throw internalError(down.status ?? 503);
    const failure = faults.take(['rate_limit', 'server_error'], path);
    if (failure?.kind === 'rate_limit') throw rateLimited();
    if (failure?.kind === 'server_error') throw internalError(failure.status ?? 500);
    const hang = faults.take(['hang'], path);
    if (hang && !(await hangs.hold(hang.ms, res))) throw new Cancelled();
    const client = basicClient(req);
    const grantType = new URLSearchParams(raw).get('grant_type');
    if (grantType !== 'client_credentials') throw unsupportedGrantType(grantType);
    const issued = tokens.issue(client.id);
    answer(200, {
      scope:
        'https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/payments/refund https://uri.paypal.com/services/applications/webhooks',
      access_token: issued.token,
      token_type: 'Bearer',
      app_id: 'APP-80W284485P519543T',
      expires_in: issued.expiresIn,
      nonce: `${isoNow()}${newDebugId()}`,
    });
  }

  /** The approval page and its two buttons; no API credentials, as on paypal.com. */
  async function handleCheckout(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    debugId: string,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = { 'content-security-policy': PAGE_CSP, 'paypal-debug-id': debugId };
    const message = (status: number, title: string, text: string) =>
      sendHtml(res, status, renderCheckoutMessage(title, text), headers);
    const form =
      method === 'POST' ? new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8')) : url.searchParams;
    const id = form.get('token') ?? '';
    const order = store.orders.get(id);
    if (!order || isExpired(order))
      return message(
        404,
        'This checkout has ended',
        'The order does not exist or has expired. Return to the merchant and start again.',
      );
    const redirect = (target: string | undefined, params: Record<string, string>, fallback: string) => {
      if (!target) return message(200, 'Done', fallback);
      const next = new URL(target);
      for (const [key, value] of Object.entries(params)) next.searchParams.set(key, value);
      res.writeHead(303, { location: next.toString(), 'cache-control': 'no-store', 'paypal-debug-id': debugId });
      res.end();
    };
    const open = order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED';
    if (url.pathname === '/checkoutnow' && method === 'GET') {
      if (!open)
        return message(409, 'Already approved', `This order is ${order.status}: there is nothing left to approve.`);
      return sendHtml(res, 200, renderCheckout(order), headers);
    }
    if (url.pathname === '/checkoutnow/approve' && method === 'POST') {
      if (!open)
        return message(409, 'Already approved', `This order is ${order.status}: there is nothing left to approve.`);
      const funding = (form.get('funding') ?? 'balance') as Funding;
      if (!FUNDINGS.includes(funding))
        return message(400, 'Unknown funding', `funding must be one of ${FUNDINGS.join(', ')}`);
      approveOrder(context(), order.id, funding);
      return redirect(
        order.returnUrl,
        { token: order.id, PayerID: order.payer!.payer_id },
        'You approved the payment; you can close this page.',
      );
    }
    if (url.pathname === '/checkoutnow/cancel' && method === 'POST')
      return redirect(order.cancelUrl, { token: order.id }, 'You cancelled; you can close this page.');
    message(404, 'Not found', `No page ${method} ${url.pathname}`);
  }

  function state(): EmulatorState {
    const ctx = context();
    const orders = [...store.orders.values()].map((order) => {
      isExpired(order);
      return {
        ...orderJson(order, store, ctx.base),
        emulator: {
          expired: order.expired,
          funding: order.funding ?? null,
          returnUrl: order.returnUrl ?? null,
          cancelUrl: order.cancelUrl ?? null,
        },
      };
    });
    return {
      webhookUrl: webhookUrl ?? null,
      webhookId,
      orderTtlMs,
      tokens: tokens.stats(),
      orders,
      captures: [...store.captures.values()].map((capture) => captureJson(capture, ctx.base, true)),
      refunds: [...store.refunds.values()].map((refund) =>
        refundJson(refund, store.captures.get(refund.captureId), ctx.base),
      ),
      events: structuredClone(store.events),
      deliveries: webhooks.deliveries(),
      requests: requestLog.map((entry) => ({ ...entry })),
      faults: faults.list(),
    };
  }

  function setFaults(list: PayPalFault[]): void {
    webhooks.releaseHeld();
    faults.set(list);
  }
  function clearFaults(): void {
    webhooks.releaseHeld();
    faults.clear();
  }
  function reset(): void {
    hangs.releaseAll();
    store = createStore();
    requestLog = [];
    requestIds.clear();
    tokens.reset();
    faults.clear();
    webhooks.reset();
    stateFile?.touch();
  }
  const expireOrder = (id: string) => {
    const order: StoredOrder = liveOrder(context(), id);
    order.expiresAt = Date.now();
    isExpired(order);
    stateFile?.touch();
  };

  async function handleAdmin(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    debugId: string,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const headers = { 'paypal-debug-id': debugId, 'cache-control': 'no-store' };
    const readJson = async () => parseJson((await readBody(req, 64 * 1024)).toString('utf8'));
    try {
      if (method === 'GET' && path === '/__emulator')
        return sendHtml(res, 200, renderActivity(state()), { ...headers, 'content-security-policy': PAGE_CSP });
      if (method === 'GET' && path === '/__emulator/state') return sendJson(res, 200, state(), headers);
      if (
        await handleFaultRoutes(method, path, res, {
          readBody: readJson,
          parse: (value) => parseFault(value),
          set: setFaults,
          clear: clearFaults,
          reset,
          current: () => faults.list(),
        })
      )
        return;
      if (method === 'POST' && path === '/__emulator/tokens/expire')
        return sendJson(res, 200, { expired: tokens.expireAll() }, headers);
      const action = /^\/__emulator\/(orders|captures)\/([^/]+)\/(approve|expire|complete|deny)$/.exec(path);
      if (action && method === 'POST') {
        const [, kind, id, verb] = action as unknown as [string, string, string, string];
        if (kind === 'orders' && verb === 'approve') {
          const funding = ((await readJson()).funding ?? 'balance') as Funding;
          if (!FUNDINGS.includes(funding)) throw new HttpError(400, `funding must be one of ${FUNDINGS.join(', ')}`);
          return sendJson(res, 200, orderJson(approveOrder(context(), id, funding), store, baseUrl), headers);
        }
        if (kind === 'orders' && verb === 'expire')
          return (expireOrder(id), sendJson(res, 200, { expired: id }, headers));
        if (kind === 'captures' && (verb === 'complete' || verb === 'deny')) {
          return sendJson(
            res,
            200,
            captureJson(
              settlePendingCapture(context(), id, verb === 'complete' ? 'COMPLETED' : 'DECLINED'),
              baseUrl,
              true,
            ),
            headers,
          );
        }
      }
      sendJson(res, 404, { name: 'NOT_FOUND', message: `No emulator route ${method} ${path}` }, headers);
    } catch (err) {
      if (err instanceof PayPalApiError) return sendJson(res, err.status, renderError(err.body, debugId), headers);
      if (err instanceof HttpError)
        return sendJson(res, err.status, { name: 'INVALID_REQUEST', message: err.message }, headers);
      if (err instanceof FaultValidationError)
        return sendJson(res, 400, { name: 'INVALID_REQUEST', message: err.message }, headers);
      throw err;
    }
  }

  const server = http.createServer((req, res) => {
    const debugId = newDebugId();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler =
      url.pathname === '/__emulator' || url.pathname.startsWith('/__emulator/')
        ? handleAdmin
        : url.pathname === '/checkoutnow' || url.pathname.startsWith('/checkoutnow/')
          ? handleCheckout
          : handleApi;
    // Every change comes through a POST (or a call from code): GETs write nothing.
    if (stateFile && req.method !== 'GET' && req.method !== 'HEAD') res.once('close', () => stateFile.touch());
    handler(req, res, url, debugId).catch((err: unknown) => {
      logger.error({ err }, 'paypal emulator request crashed');
      if (!res.headersSent)
        sendJson(res, 500, renderError(internalError().body, debugId), { 'paypal-debug-id': debugId });
      else res.destroy();
    });
  });

  return {
    server,
    async listen(port = 0, host = '127.0.0.1') {
      const address = await listenOn(server, port, host);
      baseUrl = urlOf(address, '');
      logger.info({ url: baseUrl }, 'paypal emulator listening');
      return baseUrl;
    },
    async close() {
      webhooks.close();
      hangs.releaseAll();
      await closeServer(server, 100);
      await stateFile?.close();
    },
    saveState: async () => stateFile?.flush(),
    setWebhookUrl(url) {
      webhookUrl = url;
    },
    setTokenLifetime: (seconds) => tokens.setLifetime(seconds),
    setOrderTtl(ms) {
      orderTtlMs = ms;
    },
    setFaults,
    clearFaults,
    reset,
    state,
    approve(orderId, funding = 'balance') {
      approveOrder(context(), orderId, funding);
      stateFile?.touch();
    },
    expireOrder,
    settleCapture(captureId, outcome) {
      settlePendingCapture(context(), captureId, outcome);
      stateFile?.touch();
    },
    expireTokens: () => tokens.expireAll(),
    flushWebhooks: () => webhooks.flush(),
    publicKey: () => signer.publicPem,
  };
}
