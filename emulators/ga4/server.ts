import http from 'node:http';
import type pino from 'pino';
import { z } from 'zod';
import { GA4_EMULATOR_STREAM } from '../../lib/config';
import { closeServer, HttpError, listen as listenOn, readBody, sendJson, urlOf } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { handleFaultRoutes } from '../shared/admin';
import { createFaultBook, FaultValidationError } from '../shared/faults';
import { createHangs } from '../shared/hangs';
import { sendHtml } from '../shared/html';
import { createStateFile, parseWith, type StateFile } from '../shared/state-file';
import { parseFault, validateFaults, type Ga4Fault } from './faults';
import {
  PAGE_CSP,
  renderPage,
  type DroppedEvent,
  type Ga4EmulatorState,
  type ReceivedEvent,
  type RecordedRequest,
} from './page';
import { LIMITS, validatePayload } from './validation';

export type { Ga4Fault } from './faults';
export type { Ga4EmulatorState, ReceivedEvent, DroppedEvent } from './page';
export type { ValidationMessage } from './validation';

export interface Ga4EmulatorOptions {
  /** The stream whose events are recorded; others are dropped (with a 2xx, as GA4 does). @default GA4_EMULATOR_STREAM */
  stream?: { measurementId: string; apiSecret: string };
  /** A JSON file that keeps received and dropped events across restarts; memory when unset. */
  stateFile?: string;
  logger?: pino.Logger;
}

export interface Ga4Emulator {
  server: http.Server;
  /** Listens (default port 0, host 127.0.0.1) and returns the base URL like http://127.0.0.1:PORT */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  setFaults(faults: Ga4Fault[]): void;
  clearFaults(): void;
  /** Forgets events, requests and faults. */
  reset(): void;
  state(): Ga4EmulatorState;
}

const LOG_LIMIT = 1000;
const STATE_VERSION = 1;
const savedState = z.object({
  received: z.array(z.object({ name: z.string(), clientId: z.string() }).passthrough()),
  dropped: z.array(z.object({ reason: z.string() }).passthrough()),
});

/**
 * GA4's Measurement Protocol on loopback: `POST /mp/collect?measurement_id=&api_secret=` answers
 * 204 and records the events GA4 would keep (dropping the rest, still 2xx, as GA4 does);
 * `POST /debug/mp/collect` answers 200 `{ validationMessages }` and records nothing. It keeps what
 * it received for the page at `/__emulator` and for tests (`state()`).
 */
export function createGa4Emulator(options: Ga4EmulatorOptions = {}): Ga4Emulator {
  const logger = (options.logger ?? createLogger({ level: 'silent' })).child({ emulator: 'ga4' });
  const stream = options.stream ?? GA4_EMULATOR_STREAM;
  let received: ReceivedEvent[] = [];
  let dropped: DroppedEvent[] = [];
  let requests: RecordedRequest[] = [];
  const faults = createFaultBook<Ga4Fault>(validateFaults, '/');
  const hangs = createHangs();
  let file: StateFile | undefined;
  if (options.stateFile) {
    file = createStateFile({
      file: options.stateFile,
      emulator: 'ga4',
      version: STATE_VERSION,
      snapshot: () => ({ received, dropped }),
      logger,
    });
    const saved = file.load(parseWith(savedState));
    if (saved) {
      received = saved.received as unknown as ReceivedEvent[];
      dropped = saved.dropped as unknown as DroppedEvent[];
    }
  }

  function record(entry: RecordedRequest): void {
    requests.push(entry);
    if (requests.length > LOG_LIMIT) requests = requests.slice(-LOG_LIMIT);
  }

  /** What `/mp/collect` keeps of one request: the events GA4 would record, the rest dropped with a reason. */
  function collect(raw: string, measurementId: string, apiSecret: string, at: string): number {
    const known = measurementId === stream.measurementId && apiSecret === stream.apiSecret;
    const checked = validatePayload(raw);
    let body: { client_id?: string; user_id?: string; events?: Array<Record<string, unknown>> } = {};
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      // dropped below
    }
    const events = Array.isArray(body?.events) ? body.events : [];
    const drop = (name: unknown, reason: string) =>
      dropped.push({ at, measurementId, name: typeof name === 'string' ? name : null, reason });
    if (!known || checked.requestDropped) {
      const reason = !known ? 'unknown measurement_id or api_secret' : checked.messages[0]!.description;
      if (events.length === 0) drop(null, reason);
      for (const event of events) drop(event?.name, reason);
      file?.touch();
      return 0;
    }
    let kept = 0;
    events.forEach((event, i) => {
      if (checked.droppedEvents.has(i)) {
        const why = checked.messages.find(
          (m) => m.description.startsWith(`Event at index: [${i}]`) || m.fieldPath.startsWith(`events[${i}]`),
        );
        return drop(event.name, why?.description ?? 'invalid event');
      }
      received.push({
        at,
        measurementId,
        clientId: String(body.client_id),
        userId: typeof body.user_id === 'string' ? body.user_id : null,
        name: String(event.name),
        params: (event.params as Record<string, unknown>) ?? {},
        timestampMicros: typeof event.timestamp_micros === 'number' ? event.timestamp_micros : null,
      });
      kept++;
    });
    file?.touch();
    return kept;
  }

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const at = new Date().toISOString();
    const debug = path === '/debug/mp/collect';
    if ((path !== '/mp/collect' && !debug) || req.method !== 'POST')
      return sendJson(res, 404, { error: { code: 404, message: `No route ${req.method} ${path}` } });
    const failure = faults.take(['server_error', 'rate_limit', 'drop_connection', 'hang'], path);
    if (failure?.kind === 'drop_connection') {
      record({ at, path, status: 'dropped', events: 0, validationMessages: [] });
      res.socket?.destroy();
      return;
    }
    if (failure?.kind === 'server_error' || failure?.kind === 'rate_limit') {
      const status = failure.kind === 'rate_limit' ? 429 : (failure.status ?? 503);
      record({ at, path, status, events: 0, validationMessages: [] });
      return sendJson(res, status, { error: { code: status, message: 'The service is currently unavailable.' } });
    }
    // A little over the protocol's limit is read, so an oversized body is answered as GA4 does, not cut off.
    const raw = (await readBody(req, LIMITS.requestBytes * 2)).toString('utf8');
    if (failure?.kind === 'hang' && !(await hangs.hold(failure.ms, res))) {
      record({ at, path, status: 'dropped', events: 0, validationMessages: [] });
      return;
    }
    const measurementId = url.searchParams.get('measurement_id') ?? '';
    if (debug) {
      // The validation server checks the body only (not api_secret: GA4's documentation says so).
      const { messages } = validatePayload(raw);
      record({ at, path, status: 200, events: countEvents(raw), validationMessages: messages });
      logger.debug({ messages: messages.length }, 'ga4 emulator validated a request');
      return sendJson(res, 200, { validationMessages: messages });
    }
    const kept = collect(raw, measurementId, url.searchParams.get('api_secret') ?? '', at);
    record({ at, path, status: 204, events: countEvents(raw), validationMessages: [] });
    logger.debug({ kept }, 'ga4 emulator collected a request');
    res.writeHead(204, { 'cache-control': 'no-cache, no-store, must-revalidate' });
    res.end();
  }

  function state(): Ga4EmulatorState {
    return {
      measurementId: stream.measurementId,
      received: structuredClone(received),
      dropped: structuredClone(dropped),
      requests: structuredClone(requests),
      faults: faults.list(),
    };
  }
  function reset(): void {
    hangs.releaseAll();
    received = [];
    dropped = [];
    requests = [];
    faults.clear();
    file?.touch();
  }

  async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const readJson = async () => JSON.parse((await readBody(req, 64 * 1024)).toString('utf8') || '{}') as unknown;
    try {
      if (method === 'GET' && path === '/__emulator')
        return sendHtml(res, 200, renderPage(state()), { 'content-security-policy': PAGE_CSP });
      if (method === 'GET' && path === '/__emulator/state')
        return sendJson(res, 200, state(), { 'cache-control': 'no-store' });
      if (
        await handleFaultRoutes(method, path, res, {
          readBody: readJson,
          parse: (value) => parseFault(value),
          set: (list) => faults.set(list),
          clear: () => faults.clear(),
          reset,
          current: () => faults.list(),
        })
      )
        return;
      sendJson(res, 404, { error: `No emulator route ${method} ${path}` });
    } catch (err) {
      if (err instanceof FaultValidationError) return sendJson(res, 400, { error: err.message });
      if (err instanceof SyntaxError) return sendJson(res, 400, { error: 'the body is not JSON' });
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message });
      throw err;
    }
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const admin = url.pathname === '/' || url.pathname === '/__emulator' || url.pathname.startsWith('/__emulator/');
    if (url.pathname === '/') {
      res.writeHead(302, { location: '/__emulator' });
      return void res.end();
    }
    (admin ? handleAdmin : handleApi)(req, res, url).catch((err: unknown) => {
      if (err instanceof HttpError && !res.headersSent)
        return sendJson(res, err.status, { error: { code: err.status, message: err.message } });
      logger.error({ err }, 'ga4 emulator request crashed');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 500, message: 'Internal error' } });
      else res.destroy();
    });
  });

  return {
    server,
    async listen(port = 0, host = '127.0.0.1') {
      const address = await listenOn(server, port, host);
      const base = urlOf(address, '');
      logger.info({ url: base }, 'ga4 emulator listening');
      return base;
    },
    async close() {
      hangs.releaseAll();
      await closeServer(server, 100);
      await file?.close();
    },
    setFaults: (list) => faults.set(list),
    clearFaults: () => faults.clear(),
    reset,
    state,
  };
}

function countEvents(raw: string): number {
  try {
    const events = (JSON.parse(raw) as { events?: unknown })?.events;
    return Array.isArray(events) ? events.length : 0;
  } catch {
    return 0;
  }
}
