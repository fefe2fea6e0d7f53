import http from 'node:http';
import type pino from 'pino';
import { INDEXNOW_DEV_KEY } from '../../lib/config';
import { NO_SCRIPT_CSP, sendHtml } from '../../lib/html';
import { closeServer, HttpError, listen as listenOn, readBody, sendJson, urlOf } from '../../lib/http';
import { createLogger } from '../../lib/logger';
import { handleFaultRoutes } from '../shared/admin';
import { createFaultBook, FaultValidationError } from '../shared/faults';
import { createStateFile } from '../shared/state-file';
import { createHangs } from '../shared/hangs';
import { parseFault, validateFaults, type IndexNowFault } from './faults';
import { renderActivity, type IndexNowState, type ReceivedSubmission, type RecordedRequest } from './page';
import { parseSavedState, STATE_VERSION } from './saved-state';
import { checkSubmission, isLoopback, submissionOfQuery, SubmissionRefused, type Submission } from './submission';

export type { IndexNowFault } from './faults';
export type { IndexNowState, ReceivedSubmission, RecordedRequest } from './page';

export interface IndexNowEmulatorOptions {
  /**
   * Keys accepted without fetching a key file (a key location that is not on loopback, or none:
   * the emulator cannot reach https://<host>/<key>.txt). A loopback keyLocation is always fetched.
   * @default [INDEXNOW_DEV_KEY]
   */
  keys?: string[];
  /** How long the key file fetch may take, ms. @default 5000 */
  keyFetchTimeoutMs?: number;
  /** A JSON file that keeps the accepted submissions across restarts; in memory only when unset. */
  stateFile?: string;
  /** How long after a change the state file is written, ms. @default 250 */
  stateSaveDelayMs?: number;
  logger?: pino.Logger;
}

export interface IndexNowEmulator {
  server: http.Server;
  /** Listens (default port 0, host 127.0.0.1) and returns the base URL like http://127.0.0.1:PORT */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  /** Writes the state file now (when there is one). */
  saveState(): Promise<void>;
  setFaults(faults: IndexNowFault[]): void;
  clearFaults(): void;
  /** Forgets submissions, requests and faults; keeps the keys. */
  reset(): void;
  state(): IndexNowState;
  /** Every URL of every accepted submission, in arrival order (one entry per time it arrived). */
  receivedUrls(): string[];
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const LOG_LIMIT = 1000;
const SUBMISSION_LIMIT = 10_000;

/** Thrown into a hanging request when the emulator is reset or closed. */
class Cancelled extends Error {}

/**
 * A search engine's IndexNow endpoint: `POST /indexnow` (JSON, up to 10,000 URLs of one host) and
 * `GET /indexnow?url=&key=`. Answers as the protocol documents: 200 received (key file checked),
 * 202 accepted (key check pending), 400 bad request, 403 key not valid, 422 URLs not of the host or
 * a malformed key, 429 too many requests (a fault, with Retry-After).
 */
export function createIndexNowEmulator(options: IndexNowEmulatorOptions = {}): IndexNowEmulator {
  const logger = (options.logger ?? createLogger({ level: 'silent' })).child({ emulator: 'indexnow' });
  const keys = options.keys ?? [INDEXNOW_DEV_KEY];
  const keyFetchTimeoutMs = options.keyFetchTimeoutMs ?? 5000;
  const faults = createFaultBook<IndexNowFault>(validateFaults, '/indexnow');
  const hangs = createHangs();
  let submissions: ReceivedSubmission[] = [];
  let requests: RecordedRequest[] = [];
  let nextId = 1;
  const stateFile = options.stateFile
    ? createStateFile({
        file: options.stateFile,
        emulator: 'indexnow',
        version: STATE_VERSION,
        snapshot: () => ({ submissions }),
        logger,
        delayMs: options.stateSaveDelayMs,
      })
    : undefined;
  const restored = stateFile?.load(parseSavedState);
  if (restored) {
    submissions = restored.submissions;
    nextId = Math.max(0, ...submissions.map((s) => s.id)) + 1;
    logger.info({ file: options.stateFile, submissions: submissions.length }, 'indexnow emulator state restored');
  }

  function record(entry: RecordedRequest): void {
    requests.push(entry);
    if (requests.length > LOG_LIMIT) requests = requests.slice(-LOG_LIMIT);
    logger.debug(entry, 'indexnow emulator request');
  }

  /**
   * The key check a search engine makes: the key file at keyLocation must hold exactly the key. A
   * loopback location is fetched (the local gateway serves it); otherwise only a configured key passes.
   */
  async function verifyKey(submission: Submission): Promise<200 | 202> {
    if (submission.keyLocation && isLoopback(submission.keyLocation)) {
      let text: string;
      try {
        const res = await fetch(submission.keyLocation, { signal: AbortSignal.timeout(keyFetchTimeoutMs) });
        if (res.status !== 200) throw new SubmissionRefused(403, `the key file answered ${res.status}`);
        text = await res.text();
      } catch (err) {
        if (err instanceof SubmissionRefused) throw err;
        throw new SubmissionRefused(403, `the key file could not be fetched (${(err as Error).message})`);
      }
      if (text.trim() !== submission.key) throw new SubmissionRefused(403, 'the key file does not hold this key');
      return 200;
    }
    if (!keys.includes(submission.key)) throw new SubmissionRefused(403, 'the key is not valid for this host');
    return 202;
  }

  async function handleIndexNow(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const at = new Date().toISOString();
    const answer = (status: number, host: string | null, urls: number, reason?: string, headers = {}) => {
      record({ at, method, path: url.pathname, status, host, urls, ...(reason ? { reason } : {}) });
      if (status === 200 || status === 202) {
        res.writeHead(status, { 'content-length': '0' });
        return void res.end();
      }
      sendJson(res, status, { code: status, message: reason ?? '' }, headers);
    };
    if (method !== 'GET' && method !== 'POST') return answer(405, null, 0, 'GET or POST only');
    const raw = method === 'POST' ? (await readBody(req, MAX_BODY_BYTES)).toString('utf8') : '';
    const fault = faults.take(['rate_limit', 'server_error', 'hang', 'drop'], url.pathname);
    if (fault?.kind === 'drop') {
      record({ at, method, path: url.pathname, status: 'dropped', host: null, urls: 0 });
      return void res.socket?.destroy();
    }
    if (fault?.kind === 'hang' && !(await hangs.hold(fault.ms, res))) throw new Cancelled();
    if (fault?.kind === 'rate_limit') {
      const seconds = fault.retryAfterSeconds ?? 1;
      return answer(429, null, 0, 'Too Many Requests', { 'retry-after': String(seconds) });
    }
    if (fault?.kind === 'server_error') return answer(fault.status ?? 500, null, 0, 'Internal Server Error');
    let submission: Submission | undefined;
    try {
      if (method === 'GET') submission = submissionOfQuery(url.searchParams);
      else {
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          throw new SubmissionRefused(400, 'the body is not JSON');
        }
        submission = checkSubmission(body);
      }
      const status = await verifyKey(submission);
      submissions.push({
        id: nextId++,
        at,
        method: method as 'GET' | 'POST',
        host: submission.host,
        key: submission.key,
        keyLocation: submission.keyLocation ?? null,
        urlList: submission.urlList,
        status,
      });
      if (submissions.length > SUBMISSION_LIMIT) submissions = submissions.slice(-SUBMISSION_LIMIT);
      stateFile?.touch();
      answer(status, submission.host, submission.urlList.length);
    } catch (err) {
      if (!(err instanceof SubmissionRefused)) throw err;
      answer(err.status, submission?.host ?? null, submission?.urlList.length ?? 0, err.message);
    }
  }

  async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const headers = { 'cache-control': 'no-store' };
    const readJson = async () => {
      const raw = (await readBody(req, 64 * 1024)).toString('utf8');
      try {
        return raw.trim() ? (JSON.parse(raw) as unknown) : {};
      } catch {
        throw new HttpError(400, 'the body is not JSON');
      }
    };
    try {
      if (method === 'GET' && path === '/__emulator')
        return sendHtml(res, 200, renderActivity(state()), { ...headers, 'content-security-policy': NO_SCRIPT_CSP });
      if (method === 'GET' && path === '/__emulator/state') return sendJson(res, 200, state(), headers);
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
      sendJson(res, 404, { error: `No emulator route ${method} ${path}` }, headers);
    } catch (err) {
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message }, headers);
      if (err instanceof FaultValidationError) return sendJson(res, 400, { error: err.message }, headers);
      throw err;
    }
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const admin = url.pathname === '/__emulator' || url.pathname.startsWith('/__emulator/');
    const work = admin
      ? handleAdmin(req, res, url)
      : url.pathname === '/indexnow'
        ? handleIndexNow(req, res, url)
        : Promise.resolve(sendJson(res, 404, { code: 404, message: `No route ${url.pathname}` }));
    work.catch((err: unknown) => {
      if (err instanceof Cancelled) return void res.destroy();
      if (err instanceof HttpError && !res.headersSent)
        return sendJson(res, err.status, { code: err.status, message: err.message });
      logger.error({ err }, 'indexnow emulator request crashed');
      if (!res.headersSent) sendJson(res, 500, { code: 500, message: 'Internal Server Error' });
      else res.destroy();
    });
  });

  function state(): IndexNowState {
    return {
      keys: [...keys],
      submissions: submissions.map((s) => ({ ...s, urlList: [...s.urlList] })),
      requests: requests.map((r) => ({ ...r })),
      faults: faults.list(),
    };
  }
  function reset(): void {
    hangs.releaseAll();
    submissions = [];
    requests = [];
    faults.clear();
    stateFile?.touch();
  }

  return {
    server,
    async listen(port = 0, host = '127.0.0.1') {
      const base = urlOf(await listenOn(server, port, host), '');
      logger.info({ url: base }, 'indexnow emulator listening');
      return base;
    },
    async close() {
      hangs.releaseAll();
      await closeServer(server, 100);
      await stateFile?.close();
    },
    saveState: async () => stateFile?.flush(),
    setFaults: (list) => faults.set(list),
    clearFaults: () => faults.clear(),
    reset,
    state,
    receivedUrls: () => submissions.flatMap((s) => s.urlList),
  };
}
