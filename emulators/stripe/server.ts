import http from 'node:http';
import type pino from 'pino';
import { closeServer, HttpError, listen as listenOn, readBody, sendJson, urlOf } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { createAdminHandler } from './admin';
import { retrieveCharge } from './charges';
import {
  apiError,
  idempotencyKeyTooLong,
  invalidApiKey,
  invalidRequest,
  missingApiKey,
  rateLimited,
  renderError,
  StripeApiError,
  unrecognizedUrl,
} from './errors';
import { listEvents, recordEvent, retrieveEvent } from './events';
import { createFaultBook, type StripeFault } from './faults';
import { canonical, FormError, parseForm, type FormObject } from './form';
import { createIdempotencyStore, type IdempotencyOutcome } from './idempotency';
import { newRequestId } from './ids';
import type { EmulatorState } from './page';
import {
  cancelPaymentIntent,
  completeAction as completeIntentAction,
  confirmPaymentIntent,
  createPaymentIntent,
  listPaymentIntents,
  retrievePaymentIntent,
} from './payment-intents';
import { createRefund, listRefunds, retrieveRefund } from './refunds';
import {
  createStore,
  type ApiContext,
  type ApiResult,
  type PaymentIntent,
  type RecordedRequest,
  type Refund,
  type RequestInfo,
  type StripeEvent,
} from './types';
import { createStripeWebhooks, type WebhookDelivery } from './webhooks';
import { createStateFile } from '../shared/state-file';
import { parseSavedState, snapshotOf, STATE_VERSION, storeFrom } from './saved-state';

export type { StripeFault } from './faults';
export type { Charge, PaymentIntent, RecordedRequest, Refund, StripeEvent } from './types';
export type { WebhookDelivery } from './webhooks';
export type { EmulatorState } from './page';

export interface StripeEmulatorOptions {
  /** Signs webhook deliveries (a whsec_… string). */
  webhookSecret: string;
  /** Where events are POSTed; none when unset. */
  webhookUrl?: string;
  /** Delays before each webhook retry, ms. @default [1000, 5000, 30000, 120000, 600000] */
  webhookRetryDelaysMs?: number[];
  /**
   * A JSON file that keeps the emulator's objects, events (undelivered webhooks are sent again
   * after a restart) and idempotency keys across restarts; in memory only when unset.
   */
  stateFile?: string;
  /** How long after a change the state file is written, ms. @default 250 */
  stateSaveDelayMs?: number;
  logger?: pino.Logger;
}

export interface StripeEmulator {
  server: http.Server;
  /** Listens (default port 0, host 127.0.0.1) and returns the base URL like http://127.0.0.1:PORT */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops, and writes the state file (when there is one) with the last changes. */
  close(): Promise<void>;
  /** Writes the state file now, with every change so far (nothing without a state file). */
  saveState(): Promise<void>;
  /** Sets where events go; events a previous run had not delivered are sent there first. */
  setWebhookUrl(url: string | undefined): void;
  setFaults(faults: StripeFault[]): void;
  clearFaults(): void;
  /** Forgets everything (objects, events, requests, idempotency keys, faults, pending deliveries); keeps the webhook URL. */
  reset(): void;
  paymentIntents(): PaymentIntent[];
  refunds(): Refund[];
  events(): StripeEvent[];
  requests(): RecordedRequest[];
  deliveries(): WebhookDelivery[];
  /** Resolves when no webhook delivery is pending or in flight (retries included), releasing held out-of-order events first. */
  flushWebhooks(): Promise<void>;
  /** Simulates the customer completing 3-D Secure for a requires_action PaymentIntent. */
  completeAction(paymentIntentId: string, outcome?: 'succeeded' | 'failed'): PaymentIntent;
}

/** The API version stripe-node 23.1 pins; events are rendered in it when a request names none. */
export const ACCOUNT_API_VERSION = '2026-10-28.endive';
const DEFAULT_RETRY_DELAYS_MS = [1000, 5000, 30000, 120000, 600000];
const WEBHOOK_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;
const LOG_LIMIT = 1000;

type RouteHandler = (ctx: ApiContext, params: FormObject, ids: string[]) => ApiResult;
interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handler: RouteHandler;
  /** The route `drop_after_charge` applies to. */
  charges?: boolean;
}

const ROUTES: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/payment_intents$/,
    handler: (ctx, params) => createPaymentIntent(ctx, params),
    charges: true,
  },
  { method: 'GET', pattern: /^\/v1\/payment_intents$/, handler: (ctx, params) => listPaymentIntents(ctx, params) },
  {
    method: 'GET',
    pattern: /^\/v1\/payment_intents\/([^/]+)$/,
    handler: (ctx, params, [id]) => retrievePaymentIntent(ctx, id, params),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/payment_intents\/([^/]+)\/confirm$/,
    handler: (ctx, params, [id]) => confirmPaymentIntent(ctx, id, params),
  },
  {
    method: 'POST',
    pattern: /^\/v1\/payment_intents\/([^/]+)\/cancel$/,
    handler: (ctx, params, [id]) => cancelPaymentIntent(ctx, id, params),
  },
  {
    method: 'GET',
    pattern: /^\/v1\/charges\/([^/]+)$/,
    handler: (ctx, params, [id]) => retrieveCharge(ctx, id, params),
  },
  { method: 'POST', pattern: /^\/v1\/refunds$/, handler: (ctx, params) => createRefund(ctx, params) },
  { method: 'GET', pattern: /^\/v1\/refunds$/, handler: (ctx, params) => listRefunds(ctx, params) },
  {
    method: 'GET',
    pattern: /^\/v1\/refunds\/([^/]+)$/,
    handler: (ctx, params, [id]) => retrieveRefund(ctx, id, params),
  },
  { method: 'GET', pattern: /^\/v1\/events$/, handler: (ctx, params) => listEvents(ctx, params) },
  { method: 'GET', pattern: /^\/v1\/events\/([^/]+)$/, handler: (ctx, params, [id]) => retrieveEvent(ctx, id, params) },
];

const decodePart = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a malformed escape is just an id that matches nothing
  }
};

function matchRoute(method: string, path: string): { route: Route; ids: string[] } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { route, ids: match.slice(1).map(decodePart) };
  }
  return undefined;
}

const headerOf = (req: http.IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Bearer (what the SDK sends) or Basic with the key as user name (what `curl -u sk_test_…:` sends). */
function apiKeyOf(req: http.IncomingMessage): string {
  const header = headerOf(req, 'authorization')?.trim();
  if (!header) throw missingApiKey();
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header.toLowerCase() : header.slice(0, space).toLowerCase();
  const credentials = space < 0 ? '' : header.slice(space + 1).trim();
  let key = '';
  if (scheme === 'bearer') key = credentials;
  else if (scheme === 'basic') key = Buffer.from(credentials, 'base64').toString('utf8').split(':')[0];
  if (!key) throw missingApiKey();
  // Test-mode secret or restricted keys only: nothing here is live.
  if (!/^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key)) throw invalidApiKey(key);
  return key;
}

/** Thrown into a hanging request when the emulator is reset or closed. */
class Cancelled extends Error {}

export function createStripeEmulator(options: StripeEmulatorOptions): StripeEmulator {
  const logger = (options.logger ?? createLogger({ level: 'silent' })).child({ emulator: 'stripe' });
  let store = createStore();
  let requestLog: RecordedRequest[] = [];
  let webhookUrl = options.webhookUrl;
  let baseUrl = 'http://127.0.0.1';
  const faults = createFaultBook();
  const idempotency = createIdempotencyStore();
  const sleepers = new Set<{ timer: NodeJS.Timeout; cancel: () => void }>();
  const stateFile = options.stateFile
    ? createStateFile({
        file: options.stateFile,
        emulator: 'stripe',
        version: STATE_VERSION,
        snapshot: () => snapshotOf(store, idempotency.saved()),
        logger,
        delayMs: options.stateSaveDelayMs,
      })
    : undefined;
  /** Events the previous run still owed the webhook endpoint: sent once there is one. */
  let undelivered: StripeEvent[] = [];
  const restored = stateFile?.load(parseSavedState);
  if (restored) {
    store = storeFrom(restored);
    idempotency.restore(restored.idempotencyKeys);
    undelivered = store.events.filter((event) => event.pending_webhooks > 0);
    logger.info(
      {
        file: options.stateFile,
        paymentIntents: store.paymentIntents.size,
        events: store.events.length,
        undelivered: undelivered.length,
      },
      'stripe emulator state restored',
    );
  }
  const webhooks = createStripeWebhooks({
    secret: options.webhookSecret,
    retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    timeoutMs: WEBHOOK_TIMEOUT_MS,
    logger,
    onDelivered(event) {
      // Stripe counts endpoints still to succeed; ours is the only one, and duplicates count once.
      const stored = store.events.find((candidate) => candidate.id === event.id);
      if (stored && stored.pending_webhooks > 0) stored.pending_webhooks -= 1;
      stateFile?.touch();
    },
  });

  function resumeDeliveries(): void {
    if (!webhookUrl || undelivered.length === 0) return;
    for (const event of undelivered) webhooks.send(event, webhookUrl, { copies: 1 });
    logger.info(
      { events: undelivered.length, webhookUrl },
      'stripe emulator resumes webhooks a previous run had not delivered',
    );
    undelivered = [];
  }

  function contextFor(request: RequestInfo, requestBase = baseUrl): ApiContext {
    return {
      store,
      request,
      baseUrl: requestBase,
      emit(type, object, previousAttributes) {
        const url = webhookUrl;
        const event = recordEvent(store, { type, object, previousAttributes, request, pendingWebhooks: url ? 1 : 0 });
        if (!url) return;
        const duplicate = faults.take(['webhook_duplicate']);
        webhooks.send(event, url, { copies: duplicate ? 2 : 1, hold: faults.takeHold('webhook_out_of_order') });
      },
    };
  }

  function record(entry: RecordedRequest): void {
    requestLog.push(entry);
    if (requestLog.length > LOG_LIMIT) requestLog = requestLog.slice(-LOG_LIMIT);
    logger.debug(entry, 'stripe emulator request');
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const sleeper = {
        timer: setTimeout(() => {
          sleepers.delete(sleeper);
          resolve();
        }, ms),
        cancel: () => {
          clearTimeout(sleeper.timer);
          sleepers.delete(sleeper);
          reject(new Cancelled());
        },
      };
      sleepers.add(sleeper);
    });
  }

  const cancelSleepers = () => {
    for (const sleeper of [...sleepers]) sleeper.cancel();
  };

  async function handleApi(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    requestId: string,
  ): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const idempotencyKey = method === 'POST' ? headerOf(req, 'idempotency-key') : undefined;
    const apiVersion = headerOf(req, 'stripe-version') ?? ACCOUNT_API_VERSION;
    const at = new Date().toISOString();
    const headers: Record<string, string> = {
      'Request-Id': requestId,
      'Stripe-Version': apiVersion,
      'Cache-Control': 'no-cache, no-store',
      ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
    };
    const answer = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      sendJson(res, status, body, { ...headers, ...extra });
      record({ method, path, status, ...(idempotencyKey ? { idempotencyKey } : {}), requestId, at });
    };
    const answerError = (err: StripeApiError) =>
      answer(err.status, renderError(err.body, err.status === 401 ? undefined : requestId), {
        ...err.headers,
        ...(err.status === 401 ? { 'WWW-Authenticate': 'Basic realm="Stripe"' } : {}),
      });

    let outcome: IdempotencyOutcome | undefined;
    try {
      const raw = method === 'POST' ? (await readBody(req, MAX_BODY_BYTES)).toString('utf8') : '';
      const apiKey = apiKeyOf(req);
      const matched = matchRoute(method, path);
      if (!matched) throw unrecognizedUrl(method, path);
      let params: FormObject;
      try {
        params = parseForm(method === 'POST' ? raw : url.searchParams);
      } catch (err) {
        if (err instanceof FormError) throw invalidRequest(err.message, { param: err.param });
        throw err;
      }
      if (idempotencyKey !== undefined && idempotencyKey.length > 255)
        throw idempotencyKeyTooLong(idempotencyKey.length);

      // Infrastructure failures come before the idempotency layer, so they are never saved and a retry gets through.
      const failure = faults.take(['rate_limit', 'server_error'], path);
      if (failure?.kind === 'rate_limit') throw rateLimited(failure.shouldRetry ?? false);
      if (failure?.kind === 'server_error') throw apiError(failure.status ?? 500);

      if (idempotencyKey) {
        outcome = idempotency.begin(apiKey, idempotencyKey, `${method} ${path}`, canonical(params));
        if (outcome.kind === 'replay') {
          const saved = outcome.response;
          outcome = undefined;
          answer(saved.status, saved.body, { 'Idempotent-Replayed': 'true', 'Original-Request': saved.requestId });
          return;
        }
      }

      const hang = faults.take(['hang'], path);
      if (hang) await sleep(hang.ms);

      const requestBase = req.headers.host ? `http://${req.headers.host}` : baseUrl;
      const ctx = contextFor({ id: requestId, idempotencyKey: idempotencyKey ?? null, apiVersion }, requestBase);
      let result: ApiResult;
      let saved = true;
      try {
        result = matched.route.handler(ctx, params, matched.ids);
      } catch (err) {
        if (!(err instanceof StripeApiError)) throw err;
        result = { status: err.status, body: renderError(err.body, requestId) };
        saved = err.saved;
      }
      if (outcome?.kind === 'first') {
        if (saved) outcome.save({ status: result.status, body: result.body, requestId });
        else outcome.release();
        outcome = undefined;
      }
      if (matched.route.charges && faults.take(['drop_after_charge'])) {
        res.socket?.destroy();
        record({ method, path, status: 'dropped', ...(idempotencyKey ? { idempotencyKey } : {}), requestId, at });
        return;
      }
      answer(result.status, result.body, idempotencyKey ? { 'Original-Request': requestId } : {});
    } catch (err) {
      if (outcome?.kind === 'first') outcome.release();
      if (err instanceof Cancelled) {
        res.destroy();
        return;
      }
      if (err instanceof StripeApiError) return answerError(err);
      if (err instanceof HttpError) return answerError(invalidRequest(err.message, { status: err.status }));
      logger.error({ err, method, path }, 'stripe emulator failed');
      answerError(apiError(500));
    }
  }

  function state(): EmulatorState {
    return {
      webhookUrl: webhookUrl ?? null,
      paymentIntents: structuredClone([...store.paymentIntents.values()]),
      charges: structuredClone([...store.charges.values()]),
      refunds: structuredClone([...store.refunds.values()]),
      events: structuredClone(store.events),
      requests: requestLog.map((entry) => ({ ...entry })),
      deliveries: webhooks.deliveries(),
      faults: faults.list(),
    };
  }

  function completeAction(paymentIntentId: string, outcome: 'succeeded' | 'failed' = 'succeeded'): PaymentIntent {
    const intent = completeIntentAction(
      contextFor({ id: null, idempotencyKey: null, apiVersion: ACCOUNT_API_VERSION }),
      paymentIntentId,
      outcome,
    );
    stateFile?.touch();
    return intent;
  }

  function reset(): void {
    cancelSleepers();
    store = createStore();
    requestLog = [];
    idempotency.clear();
    faults.clear();
    webhooks.reset();
    undelivered = [];
    stateFile?.touch();
  }

  const handleAdmin = createAdminHandler({
    logger,
    state,
    findIntent: (id) => store.paymentIntents.get(id),
    setFaults,
    clearFaults,
    reset,
    completeAction,
  });

  const server = http.createServer((req, res) => {
    const requestId = newRequestId();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler = url.pathname === '/__emulator' || url.pathname.startsWith('/__emulator/') ? handleAdmin : handleApi;
    // Every change comes through a POST (or a webhook delivery, or a call from code): GETs write nothing.
    if (stateFile && req.method !== 'GET' && req.method !== 'HEAD') res.once('close', () => stateFile.touch());
    handler(req, res, url, requestId).catch((err: unknown) => {
      logger.error({ err }, 'stripe emulator request crashed');
      if (!res.headersSent)
        sendJson(res, 500, renderError({ type: 'api_error', message: 'Internal error' }, requestId));
      else res.destroy();
    });
  });

  // Held out-of-order events are sent when their fault is replaced: they would otherwise wait for a flush that may never come.
  function setFaults(list: StripeFault[]): void {
    webhooks.releaseHeld();
    faults.set(list);
  }

  function clearFaults(): void {
    webhooks.releaseHeld();
    faults.clear();
  }

  return {
    server,
    async listen(port = 0, host = '127.0.0.1') {
      const address = await listenOn(server, port, host);
      baseUrl = urlOf(address, '');
      logger.info({ url: baseUrl }, 'stripe emulator listening');
      resumeDeliveries();
      return baseUrl;
    },
    async close() {
      webhooks.close();
      cancelSleepers();
      await closeServer(server, 100);
      await stateFile?.close();
    },
    saveState: async () => stateFile?.flush(),
    setWebhookUrl(url) {
      webhookUrl = url;
      if (server.listening) resumeDeliveries();
    },
    setFaults,
    clearFaults,
    reset,
    paymentIntents: () => structuredClone([...store.paymentIntents.values()]),
    refunds: () => structuredClone([...store.refunds.values()]),
    events: () => structuredClone(store.events),
    requests: () => requestLog.map((entry) => ({ ...entry })),
    deliveries: () => webhooks.deliveries(),
    flushWebhooks: () => webhooks.flush(),
    completeAction,
  };
}
