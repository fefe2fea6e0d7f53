import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Logger } from '../../lib/logger';
import type { StripeEvent } from './types';

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

export interface WebhookDispatcherOptions {
  secret: string;
  retryDelaysMs: number[];
  /** Stripe gives an endpoint this long to answer. */
  timeoutMs: number;
  logger: Logger;
  /** Called on an event's first 2xx. */
  onDelivered: (event: StripeEvent) => void;
}

interface Job {
  event: StripeEvent;
  url: string;
  attempt: number;
}

/** Out-of-order delivery: events wait in a batch, released newest first. */
export interface Hold {
  batch: object;
  last: boolean;
}

const LOG_LIMIT = 1000;

/** `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, what stripe.webhooks.constructEvent checks. */
export function signatureHeader(secret: string, payload: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/**
 * Delivers events one at a time, in the order they are queued, so tests can reason about order;
 * a failed attempt is queued again after the next retry delay. Nothing here blocks an API answer.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions) {
  let queue: Job[] = [];
  let running = false;
  let generation = 0;
  let closed = false;
  let deliveries: WebhookDelivery[] = [];
  const retryTimers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<http.ClientRequest>();
  const held = new Map<object, Job[][]>();
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

  function post(job: Job): Promise<{ status: number } | { error: string }> {
    const payload = JSON.stringify(job.event, null, 2);
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
        request = (target.protocol === 'https:' ? https : http).request(target, {
          method: 'POST',
          // A fresh connection per attempt: nothing lingers after close().
          agent: false,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(payload),
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'cache-control': 'no-cache',
            accept: '*/*; q=0.5, application/xml',
            'stripe-signature': signatureHeader(options.secret, payload),
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
    record({
      eventId: job.event.id,
      type: job.event.type,
      attempt: job.attempt,
      status: 'status' in result ? result.status : 'error',
      at: new Date().toISOString(),
      ...('error' in result ? { error: result.error } : {}),
    });
    if (ok) {
      options.logger.debug({ eventId: job.event.id, type: job.event.type, attempt: job.attempt }, 'webhook delivered');
      options.onDelivered(job.event);
    } else {
      const delay = options.retryDelaysMs[job.attempt - 1];
      options.logger.warn({ eventId: job.event.id, type: job.event.type, attempt: job.attempt, result, retryInMs: delay ?? null }, 'webhook delivery failed');
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

  function enqueue(jobs: Job[]): void {
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
    send(event: StripeEvent, url: string, { copies, hold }: { copies: number; hold?: Hold }): void {
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

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
