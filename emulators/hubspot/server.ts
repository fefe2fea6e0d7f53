import { handleFaultRoutes } from '../shared/admin';
import { createHangs } from '../shared/hangs';
import { pathMatches, sendHtml } from '../shared/html';
import http from 'node:http';
import pino from 'pino';
import { closeServer, HttpError, listen as listenOn, readBody, sendJson, urlOf } from '../../lib/http';
import { ContactStore, type Contact, type Reply } from './contacts';
import {
  HubSpotApiError,
  malformedJson,
  methodNotAllowed,
  outage,
  payloadTooLarge,
  routeNotFound,
  secondlyLimited,
  serverError,
  tenSecondlyRollingLimited,
  unauthorized,
} from './errors';
import { PAGE_CSP, renderPage } from './page';
import { PropertyStore, propertyToApi } from './properties';
import { parseSavedState, STATE_VERSION } from './saved-state';
import { searchContacts } from './search';
import { createStateFile } from '../shared/state-file';

export type { Contact } from './contacts';

export interface HubSpotEmulatorOptions {
  /** Requests allowed per rolling window before 429. @default 100 */
  rateLimit?: number;
  /** Rolling window, ms. @default 10000 */
  rateWindowMs?: number;
  /** Search requests allowed per second (search's own limit, on top of the window). @default 4 */
  searchRateLimit?: number;
  /** How long a created/updated contact takes to show up in search, ms. @default 0 */
  searchLagMs?: number;
  /** Accepted bearer tokens; any non-empty token when unset. */
  accessTokens?: string[];
  /** A JSON file that keeps contacts, their ids and property definitions across restarts; in memory only when unset. */
  stateFile?: string;
  /** How long after a change the state file is written, ms. @default 250 */
  stateSaveDelayMs?: number;
  logger?: import('pino').Logger;
}

/**
 * Injected failures for API calls. `path` matches that path and everything under it
 * (e.g. '/crm/v3/objects/contacts/batch'); `times` unset means until cleared.
 */
export type HubSpotFault =
  /** A 429 TEN_SECONDLY_ROLLING regardless of the counter. */
  | { kind: 'rate_limit'; times?: number; path?: string }
  | { kind: 'server_error'; status?: 500 | 502 | 503; times?: number; path?: string }
  /** Holds the request `ms`, then answers normally. */
  | { kind: 'hang'; ms: number; times?: number; path?: string }
  /** Every API request answers 503 for `ms` from now. */
  | { kind: 'outage'; ms: number }
  /** Batch upsert: inputs with these emails fail (207 with errors[]); `times` counts the batches it hit. */
  | { kind: 'partial_batch'; failEmails: string[]; times?: number };

export interface RecordedRequest {
  method: string;
  path: string;
  /** 0 while in flight, and for a request whose client went away before the answer. */
  status: number;
  at: string;
  /** Number of inputs of a batch request. */
  batchSize?: number;
}

export interface HubSpotEmulator {
  server: http.Server;
  /** Resolves to the base URL without a trailing slash, e.g. http://127.0.0.1:PORT. @default port 0, host 127.0.0.1 */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops, and writes the state file (when there is one) with the last changes. */
  close(): Promise<void>;
  /** Writes the state file now, with every change so far (nothing without a state file). */
  saveState(): Promise<void>;
  setFaults(faults: HubSpotFault[]): void;
  clearFaults(): void;
  /** Forgets contacts, custom properties, requests, faults and rate-limit counters. */
  reset(): void;
  contacts(): Contact[];
  properties(): Array<{ name: string; label: string; type: string; fieldType: string; groupName: string }>;
  requests(): RecordedRequest[];
  /** Requests answered 429 so far (forced or by the limiter). */
  rateLimited(): number;
}

const CONTACTS = '/crm/v3/objects/contacts';
const PROPERTIES = '/crm/v3/properties/contacts';
const MAX_API_BODY_BYTES = 3 * 1024 * 1024;
const MAX_EMULATOR_BODY_BYTES = 1024 * 1024;
const MAX_REQUEST_LOG = 1000;
/** Private apps on paid plans; only reported in headers, never enforced. */
const DAILY_LIMIT = 250_000;
const SEARCH_WINDOW_MS = 1000;

/** Counts requests over the last `windowMs`, as HubSpot's rolling limits do. */
class RollingWindow {
  private hits: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  private prune(now: number): void {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.hits.length && this.hits[drop]! <= cutoff) drop++;
    if (drop > 0) this.hits.splice(0, drop);
  }

  /** Counts a request unless the window is full. */
  take(now: number): boolean {
    this.prune(now);
    if (this.hits.length >= this.limit) return false;
    this.hits.push(now);
    return true;
  }

  remaining(now: number): number {
    this.prune(now);
    return Math.max(0, this.limit - this.hits.length);
  }

  reset(): void {
    this.hits = [];
  }
}

interface ActiveFault {
  fault: HubSpotFault;
  remaining: number;
  /** End of an outage, epoch ms. */
  until?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a fault from the HTTP control API; setFaults trusts its typed callers. */
function parseFault(value: unknown): HubSpotFault {
  const fail = (why: string): never => {
    throw new HttpError(400, `invalid fault: ${why}`);
  };
  if (!isObject(value)) return fail('expected an object');
  const { kind, times, path, status, ms, failEmails } = value;
  if (times !== undefined && !(typeof times === 'number' && Number.isInteger(times) && times > 0))
    fail('times must be a positive integer');
  if (path !== undefined && typeof path !== 'string') fail('path must be a string');
  const count = times !== undefined ? { times: times as number } : {};
  const common = { ...count, ...(path !== undefined ? { path: path as string } : {}) };
  const needMs = () => {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) fail('ms must be a non-negative number');
    return ms as number;
  };
  switch (kind) {
    case 'rate_limit':
      return { kind, ...common };
    case 'server_error':
      if (status !== undefined && status !== 500 && status !== 502 && status !== 503)
        fail('status must be 500, 502 or 503');
      return { kind, ...(status !== undefined ? { status: status as 500 | 502 | 503 } : {}), ...common };
    case 'hang':
      return { kind, ms: needMs(), ...common };
    case 'outage':
      return { kind, ms: needMs() };
    case 'partial_batch':
      if (!Array.isArray(failEmails) || !failEmails.every((e) => typeof e === 'string'))
        fail('failEmails must be an array of emails');
      return { kind, failEmails: failEmails as string[], ...count };
    default:
      return fail("kind must be 'rate_limit', 'server_error', 'hang', 'outage' or 'partial_batch'");
  }
}

function send(res: http.ServerResponse, reply: Reply, headers: Record<string, string>): void {
  if (reply.body === undefined) {
    res.writeHead(reply.status, { ...headers, 'content-length': 0 });
    res.end();
    return;
  }
  sendJson(res, reply.status, reply.body, headers);
}

/** `properties=a,b` and `properties=a&properties=b` (what the SDK sends) alike. */
function listParam(query: URLSearchParams, name: string): string[] | undefined {
  const all = query.getAll(name);
  if (all.length === 0) return undefined;
  return all
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function createHubSpotEmulator(options: HubSpotEmulatorOptions = {}): HubSpotEmulator {
  const logger = options.logger ?? pino({ level: 'silent' });
  const limits = {
    rateLimit: options.rateLimit ?? 100,
    rateWindowMs: options.rateWindowMs ?? 10_000,
    searchRateLimit: options.searchRateLimit ?? 4,
    searchLagMs: options.searchLagMs ?? 0,
  };
  const window = new RollingWindow(limits.rateLimit, limits.rateWindowMs);
  const searchWindow = new RollingWindow(limits.searchRateLimit, SEARCH_WINDOW_MS);
  const propertyStore = new PropertyStore();
  const contactStore = new ContactStore({ properties: propertyStore, searchLagMs: limits.searchLagMs });
  const stateFile = options.stateFile
    ? createStateFile({
        file: options.stateFile,
        emulator: 'hubspot',
        version: STATE_VERSION,
        snapshot: () => ({ ...contactStore.saved(), properties: propertyStore.list() }),
        logger,
        delayMs: options.stateSaveDelayMs,
      })
    : undefined;
  const restored = stateFile?.load(parseSavedState);
  if (restored) {
    propertyStore.restore(restored.properties);
    contactStore.restore(restored);
    logger.info({ file: options.stateFile, contacts: restored.contacts.length }, 'hubspot emulator state restored');
  }
  let faults: ActiveFault[] = [];
  let requestLog: RecordedRequest[] = [];
  let rateLimitedCount = 0;
  let dailyCount = 0;
  /** Hung requests, so close() can end them at once. */
  const hangs = createHangs();

  function rateHeaders(now: number, remaining = window.remaining(now)): Record<string, string> {
    return {
      'X-HubSpot-RateLimit-Max': String(limits.rateLimit),
      'X-HubSpot-RateLimit-Remaining': String(remaining),
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(limits.rateWindowMs),
      'X-HubSpot-RateLimit-Daily': String(DAILY_LIMIT),
      'X-HubSpot-RateLimit-Daily-Remaining': String(Math.max(0, DAILY_LIMIT - dailyCount)),
    };
  }

  function outageActive(now: number): boolean {
    faults = faults.filter((f) => f.fault.kind !== 'outage' || (f.until ?? 0) > now);
    return faults.some((f) => f.fault.kind === 'outage');
  }

  /** The first request-level fault (rate_limit, server_error, hang) for this path, counted down. */
  function takeFault(pathname: string): HubSpotFault | undefined {
    const active = faults.find(
      (f) =>
        (f.fault.kind === 'rate_limit' || f.fault.kind === 'server_error' || f.fault.kind === 'hang') &&
        pathMatches(pathname, f.fault.path),
    );
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) faults = faults.filter((f) => f !== active);
    return active.fault;
  }

  /** A predicate for one batch upsert; the fault counts down once per batch it actually hit. */
  function partialBatch(): { shouldFail: (email: string | undefined) => boolean; settle: () => void } {
    const active = faults.find((f) => f.fault.kind === 'partial_batch');
    if (active?.fault.kind !== 'partial_batch') return { shouldFail: () => false, settle: () => undefined };
    const emails = new Set(active.fault.failEmails.map((e) => e.trim().toLowerCase()));
    let hit = false;
    return {
      shouldFail: (email) => {
        const fails = email !== undefined && emails.has(email.toLowerCase());
        hit ||= fails;
        return fails;
      },
      settle: () => {
        if (!hit) return;
        active.remaining -= 1;
        if (active.remaining <= 0) faults = faults.filter((f) => f !== active);
      },
    };
  }

  /** The bearer token, or why there is none that we accept. */
  function authorize(req: http.IncomingMessage): void {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw unauthorized(false);
    if (options.accessTokens && !options.accessTokens.includes(token)) throw unauthorized(true);
  }

  function parseJson(raw: Buffer): unknown {
    if (raw.length === 0) return undefined;
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw malformedJson(err instanceof Error ? err.message : 'not JSON');
    }
  }

  function routeContacts(method: string, rest: string[], query: URLSearchParams, body: unknown, path: string): Reply {
    if (rest.length === 0) {
      if (method === 'GET')
        return contactStore.list({
          limit: query.get('limit') ?? undefined,
          after: query.get('after') ?? undefined,
          properties: listParam(query, 'properties'),
        });
      if (method === 'POST') return contactStore.create(body);
      throw methodNotAllowed(method, path);
    }
    if (rest.length === 1 && rest[0] === 'search' && method === 'POST') {
      return searchContacts(contactStore.searchable(), body, propertyStore, (values, requested) =>
        contactStore.selectProperties(values, requested),
      );
    }
    if (rest.length === 2 && rest[0] === 'batch') {
      if (method !== 'POST') throw methodNotAllowed(method, path);
      switch (rest[1]) {
        case 'read':
          return contactStore.batchRead(body);
        case 'create':
          return contactStore.batchCreate(body);
        case 'upsert': {
          const fault = partialBatch();
          const reply = contactStore.batchUpsert(body, fault.shouldFail);
          fault.settle();
          return reply;
        }
        default:
          throw routeNotFound(method, path);
      }
    }
    if (rest.length === 1) {
      const id = decodeSegment(rest[0]!);
      const idProperty = query.get('idProperty') ?? undefined;
      if (method === 'GET') return contactStore.get(id, { idProperty, properties: listParam(query, 'properties') });
      if (method === 'PATCH') return contactStore.update(id, idProperty, body);
      if (method === 'DELETE') return contactStore.archive(id);
      throw methodNotAllowed(method, path);
    }
    throw routeNotFound(method, path);
  }

  function routeProperties(method: string, rest: string[], body: unknown, path: string): Reply {
    if (rest.length === 0) {
      if (method === 'GET') return { status: 200, body: { results: propertyStore.list().map(propertyToApi) } };
      if (method === 'POST') return { status: 201, body: propertyToApi(propertyStore.create(body)) };
      throw methodNotAllowed(method, path);
    }
    if (rest.length === 1) {
      const name = decodeSegment(rest[0]!);
      if (method === 'GET') return { status: 200, body: propertyToApi(propertyStore.get(name)) };
      if (method === 'PATCH') return { status: 200, body: propertyToApi(propertyStore.update(name, body)) };
      throw methodNotAllowed(method, path);
    }
    throw routeNotFound(method, path);
  }

  function route(method: string, path: string, query: URLSearchParams, body: unknown): Reply {
    for (const [prefix, handler] of [
      [CONTACTS, (rest: string[]) => routeContacts(method, rest, query, body, path)],
      [PROPERTIES, (rest: string[]) => routeProperties(method, rest, body, path)],
    ] as const) {
      if (path !== prefix && !path.startsWith(`${prefix}/`)) continue;
      const rest = path === prefix ? [] : path.slice(prefix.length + 1).split('/');
      if (rest.some((segment) => segment === '')) break;
      return handler(rest);
    }
    throw routeNotFound(method, path);
  }

  async function handleApi(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    query: URLSearchParams,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const entry: RecordedRequest = { method, path, status: 0, at: new Date().toISOString() };
    requestLog.push(entry);
    if (requestLog.length > MAX_REQUEST_LOG) requestLog.shift();
    const started = Date.now();
    res.on('finish', () => {
      entry.status = res.statusCode;
      if (res.statusCode === 429) rateLimitedCount += 1;
      logger.debug(
        { method, path, status: res.statusCode, ms: Date.now() - started, batchSize: entry.batchSize },
        'hubspot emulator api request',
      );
    });

    let headers: Record<string, string> = {};
    try {
      const raw = await readBody(req, MAX_API_BODY_BYTES);
      if (outageActive(Date.now())) throw outage();
      authorize(req);
      const fault = takeFault(path);
      if (fault?.kind === 'rate_limit') throw tenSecondlyRollingLimited(rateHeaders(Date.now(), 0));
      if (fault?.kind === 'server_error') throw serverError(fault.status ?? 500);
      if (fault?.kind === 'hang' && !(await hangs.hold(fault.ms, res))) {
        res.destroy();
        return;
      }
      const now = Date.now();
      if (!window.take(now)) throw tenSecondlyRollingLimited(rateHeaders(now, 0));
      dailyCount += 1;
      headers = rateHeaders(now);
      if (method === 'POST' && path === `${CONTACTS}/search` && !searchWindow.take(now)) throw secondlyLimited(headers);
      const body = parseJson(raw);
      if (isObject(body) && Array.isArray(body.inputs) && path.startsWith(`${CONTACTS}/batch/`))
        entry.batchSize = body.inputs.length;
      send(res, route(method, path, query, body), headers);
    } catch (err) {
      if (err instanceof HubSpotApiError) return sendJson(res, err.status, err.body, { ...headers, ...err.headers });
      if (err instanceof HttpError && err.status === 413)
        return sendJson(res, 413, payloadTooLarge(MAX_API_BODY_BYTES).body, headers);
      throw err;
    }
  }

  function state() {
    return {
      contacts: api.contacts(),
      properties: propertyStore.list().map(propertyToApi),
      requests: api.requests(),
      faults: faults.map((f) => ({
        ...f.fault,
        remaining: Number.isFinite(f.remaining) ? f.remaining : null,
        ...(f.until !== undefined ? { until: new Date(f.until).toISOString() } : {}),
      })),
      rateLimited: rateLimitedCount,
      limits,
    };
  }

  async function readEmulatorBody(req: http.IncomingMessage): Promise<unknown> {
    const raw = await readBody(req, MAX_EMULATOR_BODY_BYTES);
    if (raw.length === 0) return undefined;
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'malformed JSON body');
    }
  }

  /** The inspection and control routes: no auth, not rate limited, not recorded. */
  async function handleEmulator(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    const target = path.replace(/\/+$/, '') || '/';
    if (method === 'GET' && (target === '/' || target === '/__emulator')) {
      outageActive(Date.now());
      return sendHtml(res, 200, renderPage({ ...state(), properties: propertyStore.list() }), {
        'content-security-policy': PAGE_CSP,
      });
    }
    if (method === 'GET' && target === '/__emulator/state') {
      outageActive(Date.now());
      return sendJson(res, 200, state());
    }
    if (
      await handleFaultRoutes(method, target, res, {
        readBody: () => readEmulatorBody(req),
        parse: parseFault,
        set: (faults) => api.setFaults(faults),
        clear: () => api.clearFaults(),
        reset: () => api.reset(),
        current: () => state().faults,
      })
    ) {
      return;
    }
    if (method === 'GET' && target === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    sendJson(res, 404, { error: `no emulator route ${method} ${path}` });
  }

  function answerError(res: http.ServerResponse, err: unknown, path: string, isApi: boolean): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError && !isApi) return sendJson(res, err.status, { error: err.message });
    logger.error({ err, path }, 'hubspot emulator request failed');
    sendJson(res, 500, serverError(500).body);
  }

  const server = http.createServer((req, res) => {
    // Split by hand: new URL() would read a leading '//' (basePath with a trailing slash) as a host.
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q === -1 ? raw : raw.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
    const isEmulator =
      path === '/' || path === '/favicon.ico' || path === '/__emulator' || path.startsWith('/__emulator/');
    // Every change comes through a POST, PATCH or DELETE: GETs write nothing.
    if (stateFile && req.method !== 'GET' && req.method !== 'HEAD') res.once('close', () => stateFile.touch());
    const handled = isEmulator ? handleEmulator(req, res, path) : handleApi(req, res, path, query);
    handled.catch((err: unknown) => answerError(res, err, path, !isEmulator));
  });

  function stopHangs(): void {
    hangs.releaseAll();
  }

  const api: HubSpotEmulator = {
    server,
    async listen(port = 0, host = '127.0.0.1') {
      const address = await listenOn(server, port, host);
      return urlOf(address, '');
    },
    async close() {
      stopHangs();
      await closeServer(server, 500);
      await stateFile?.close();
    },
    saveState: async () => stateFile?.flush(),
    setFaults(list) {
      const now = Date.now();
      faults = list.map((fault) => ({
        fault: structuredClone(fault),
        remaining: 'times' in fault && fault.times !== undefined ? fault.times : Number.POSITIVE_INFINITY,
        ...(fault.kind === 'outage' ? { until: now + fault.ms } : {}),
      }));
      logger.info({ faults: list }, 'hubspot emulator faults set');
    },
    clearFaults() {
      faults = [];
    },
    reset() {
      stopHangs();
      contactStore.reset();
      propertyStore.reset();
      faults = [];
      requestLog = [];
      rateLimitedCount = 0;
      dailyCount = 0;
      window.reset();
      searchWindow.reset();
      stateFile?.touch();
    },
    contacts: () => contactStore.all(),
    properties: () =>
      propertyStore
        .list()
        .map(({ name, label, type, fieldType, groupName }) => ({ name, label, type, fieldType, groupName })),
    requests: () => requestLog.map((r) => ({ ...r })),
    rateLimited: () => rateLimitedCount,
  };
  return api;
}
