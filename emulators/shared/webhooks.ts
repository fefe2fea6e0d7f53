import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../../lib/logger';

export interface WebhookDelivery {
  eventId: string;
  type: string;
  /** 1 for the first try of a delivery, then 2, 3… for its retries. */
  attempt: number;
  status: number | 'error';
  at: string;
  /** Why an attempt failed without a status (refused, timed out). */
  error?: string;
}

export interface WebhookDispatcherOptions<E> {
  /** The body and headers of one attempt: signed afresh for each, as the providers do. */
  render: (event: E) => { body: string; headers: Record<string, string> };
  /** The event's id and type, for the delivery log. */
  describe: (event: E) => { id: string; type: string };
  retryDelaysMs: number[];
  /** How long an endpoint gets to answer, ms. */
  timeoutMs: number;
  logger: Logger;
  /** Called on each 2xx (duplicates included). */
  onDelivered?: (event: E) => void;
}

interface Job<E> {
  event: E;
  url: string;
  attempt: number;
}

/** Out-of-order delivery: events wait in a batch, released newest first. */
export interface Hold {
  batch: object;
  last: boolean;
}

const LOG_LIMIT = 1000;

/**
 * Delivers events one at a time, in the order they are queued, so tests can reason about order;
 * a failed attempt is queued again after the next retry delay. Nothing here blocks an API answer.
 */
export function createWebhookDispatcher<E>(options: WebhookDispatcherOptions<E>) {
  let queue: Job<E>[] = [];
  let running = false;
  let generation = 0;
  let closed = false;
  let deliveries: WebhookDelivery[] = [];
  const retryTimers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<http.ClientRequest>();
  const held = new Map<object, Job<E>[][]>();
  let idleWaiters: Array<() => void> = [];

  const heldCount = () => [...held.values()].reduce((sum, groups) => sum + groups.length, 0);
  const pending = () => queue.length + (running ? 1 : 0) + retryTimers.size + heldCount();

  function notifyIfIdle(): void {
    if (pending() > 0 && !closed) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function record(delivery: WebhookDelivery): void {
    deliveries.push(delivery);
    if (deliveries.length > LOG_LIMIT) deliveries = deliveries.slice(-LOG_LIMIT);
  }

  function post(job: Job<E>): Promise<{ status: number } | { error: string }> {
    let payload = '';
    return new Promise((resolve) => {
      let settled = false;
      let request: http.ClientRequest | undefined;
      const settle = (result: { status: number } | { error: string }) => {
        if (settled) return;
        settled = true;
        if (request) inFlight.delete(request);
        resolve(result);
      };
      try {
        const target = new URL(job.url);
        const rendered = options.render(job.event);
        payload = rendered.body;
        request = (target.protocol === 'https:' ? https : http).request(target, {
          method: 'POST',
          // A fresh connection per attempt: nothing lingers after close().
          agent: false,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(payload),
            ...rendered.headers,
          },
        });
      } catch (err) {
        settle({ error: (err as Error).message });
        return;
      }
      const req = request;
      inFlight.add(req);
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
      req.on('response', (res) => {
        res.resume();
        settle({ status: res.statusCode ?? 0 });
      });
      req.on('error', (err) => settle({ error: err.message }));
      req.end(payload);
    });
  }

  async function pump(): Promise<void> {
    if (running || closed) return;
    const job = queue.shift();
    if (!job) {
      notifyIfIdle();
      return;
    }
    running = true;
    const started = generation;
    const result = await post(job);
    if (started !== generation) return; // reset or closed meanwhile: this attempt no longer counts
    running = false;
    const ok = 'status' in result && result.status >= 200 && result.status < 300;
    const { id: eventId, type } = options.describe(job.event);
    record({
      eventId,
      type,
      attempt: job.attempt,
      status: 'status' in result ? result.status : 'error',
      at: new Date().toISOString(),
      ...('error' in result ? { error: result.error } : {}),
    });
    if (ok) {
      options.logger.debug({ eventId, type, attempt: job.attempt }, 'webhook delivered');
      options.onDelivered?.(job.event);
    } else {
      const delay = options.retryDelaysMs[job.attempt - 1];
      options.logger.warn(
        { eventId, type, attempt: job.attempt, result, retryInMs: delay ?? null },
        'webhook delivery failed',
      );
      if (delay !== undefined) {
        const timer = setTimeout(() => {
          retryTimers.delete(timer);
          queue.push({ ...job, attempt: job.attempt + 1 });
          void pump();
        }, delay);
        timer.unref();
        retryTimers.add(timer);
      }
    }
    void pump();
  }

  function enqueue(jobs: Job<E>[]): void {
    queue.push(...jobs);
    void pump();
  }

  function release(batch: object): void {
    const groups = held.get(batch);
    held.delete(batch);
    if (groups) enqueue(groups.reverse().flat());
  }

  /** Drops everything queued, waiting or in flight; returns the waiters to wake. */
  function stopAll(): void {
    generation += 1;
    running = false;
    queue = [];
    held.clear();
    for (const timer of retryTimers) clearTimeout(timer);
    retryTimers.clear();
    for (const request of inFlight) request.destroy();
    inFlight.clear();
  }

  return {
    /** Queues `event` for `url` (`copies` times: duplicate delivery), or holds it in an out-of-order batch. */
    send(event: E, url: string, { copies, hold }: { copies: number; hold?: Hold }): void {
      if (closed) return;
      const jobs = Array.from({ length: copies }, () => ({ event, url, attempt: 1 }));
      if (!hold) return enqueue(jobs);
      const groups = held.get(hold.batch) ?? [];
      groups.push(jobs);
      held.set(hold.batch, groups);
      if (hold.last) release(hold.batch);
    },
    /** Sends whatever out-of-order batches are holding, newest first. */
    releaseHeld(): void {
      for (const batch of [...held.keys()]) release(batch);
    },
    /** Resolves once nothing is queued, held, in flight or waiting to be retried. */
    flush(): Promise<void> {
      for (const batch of [...held.keys()]) release(batch);
      if (pending() === 0 || closed) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    deliveries(): WebhookDelivery[] {
      return deliveries.map((delivery) => ({ ...delivery }));
    },
    reset(): void {
      stopAll();
      deliveries = [];
      notifyIfIdle();
    },
    close(): void {
      closed = true;
      stopAll();
      notifyIfIdle();
    },
  };
}

export type WebhookDispatcher<E> = ReturnType<typeof createWebhookDispatcher<E>>;
