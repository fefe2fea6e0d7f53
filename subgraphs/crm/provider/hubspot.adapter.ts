import { recordProviderCall, routeOf } from '../../../lib/metrics';
import { Client } from '@hubspot/api-client';
import type { Logger } from '../../../lib/logger';
import type { RollingRateLimiter } from '../../../lib/rate-limiter';
import { CONTACT_PROPERTIES, READ_PROPERTIES } from '../domain/contact-mapping';
import { MAX_BATCH, type CrmContact, type CrmGateway, type UpsertFailure, type UpsertResult } from './crm-gateway.port';

export interface HubSpotAdapterOptions {
  accessToken: string;
  /** Base URL of a HubSpot-compatible API (the local emulator); HubSpot itself when absent. */
  apiUrl?: string;
  /** Per-request timeout, ms (the SDK has none). @default 10000 */
  timeoutMs?: number;
  logger: Logger;
  /** Paces every call to HubSpot's rolling limit (shared by all calls of this process). */
  rateLimiter?: RollingRateLimiter;
}

export class HubSpotTimeoutError extends Error {
  constructor(ms: number) {
    super(`HubSpot did not answer within ${ms} ms`);
    this.name = 'HubSpotTimeoutError';
  }
}

/** HubSpot's ApiException: one class per generated module, none exported, so recognise it by shape. */
const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
};

const headerValue = (headers: Record<string, string> | undefined, name: string): string | undefined => {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
};

/**
 * The only file that imports `@hubspot/api-client`. The SDK's own retries are off: its 429 retry
 * sleeps ten seconds per attempt and its setting is process-global, so our resilience layer owns
 * retries. Every call is logged here with our fields only: the SDK's error messages embed
 * response bodies (emails), so they are never logged as they are.
 */
export function createHubSpotAdapter(options: HubSpotAdapterOptions): CrmGateway {
  const client = new Client({
    accessToken: options.accessToken,
    numberOfApiCallRetries: 0,
    ...(options.apiUrl ? { basePath: options.apiUrl.replace(/\/+$/, '') } : {}),
  });
  // The SDK reads its (global) retry setting when an API object is first used: bind ours now.
  const contacts = client.crm.contacts.batchApi;
  const properties = client.crm.properties.coreApi;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.logger.child({ provider: 'hubspot' });

  const limiter = options.rateLimiter;
  /** HubSpot tells how many calls are left in its window on every answer, 429s included. */
  const observeRemaining = (headers: Record<string, string> | undefined) => {
    const remaining = headerValue(headers, 'x-hubspot-ratelimit-remaining');
    if (limiter && remaining !== undefined) limiter.observe(Number(remaining));
  };

  async function call<T>(
    method: string,
    path: string,
    attempt: number,
    batchSize: number | undefined,
    run: () => Promise<{ httpStatusCode: number; headers: Record<string, string>; data: T }>,
  ): Promise<T> {
    const queued = Date.now();
    await limiter?.acquire(); // waiting for a slot is not HubSpot being slow: the timeout starts after it
    const started = Date.now();
    const queuedMs = started - queued;
    let timer: NodeJS.Timeout | undefined;
    try {
      const response = await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new HubSpotTimeoutError(timeoutMs)), timeoutMs);
        }),
      ]);
      recordProviderCall({
        provider: 'hubspot',
        operation: `${method} ${routeOf(path)}`,
        status: response.httpStatusCode,
        durationMs: Date.now() - started,
        attempt,
        queuedMs,
      });
      log.info(
        {
          method,
          path,
          status: response.httpStatusCode,
          durationMs: Date.now() - started,
          queuedMs,
          attempt,
          batchSize,
        },
        'hubspot call',
      );
      observeRemaining(response.headers);
      return response.data;
    } catch (err) {
      if (statusOf(err) === 429) limiter?.exhausted();
      observeRemaining((err as { headers?: Record<string, string> }).headers);
      recordProviderCall({
        provider: 'hubspot',
        operation: `${method} ${routeOf(path)}`,
        status: statusOf(err),
        durationMs: Date.now() - started,
        attempt,
        queuedMs,
      });
      log.warn(
        {
          method,
          path,
          status: statusOf(err) ?? null,
          durationMs: Date.now() - started,
          queuedMs,
          attempt,
          batchSize,
          error: (err as Error).name,
        },
        'hubspot call failed',
      );
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  const isTransient = (error: unknown): boolean => {
    if (error instanceof HubSpotTimeoutError) return true;
    const status = statusOf(error);
    if (status === undefined)
      return (
        error instanceof Error &&
        /ECONN|ETIMEDOUT|socket|network|fetch failed/i.test(
          `${error.message} ${(error as { cause?: Error }).cause?.message ?? ''}`,
        )
      );
    return status === 429 || status >= 500;
  };

  return {
    async ensureProperties() {
      // One list call tells which of ours exist; only the missing ones are created.
      const existing = await call('GET', '/crm/v3/properties/contacts', 1, undefined, () =>
        properties.getAllWithHttpInfo('contacts'),
      );
      const names = new Set(existing.results.map((p) => p.name));
      for (const mapping of CONTACT_PROPERTIES) {
        if (!mapping.custom || names.has(mapping.property)) continue;
        try {
          await call('POST', '/crm/v3/properties/contacts', 1, undefined, () =>
            properties.createWithHttpInfo('contacts', {
              name: mapping.property,
              label: mapping.custom!.label,
              type: mapping.custom!.type as never,
              fieldType: mapping.custom!.fieldType as never,
              groupName: 'contactinformation',
              ...(mapping.custom!.unique ? { hasUniqueValue: true } : {}),
            }),
          );
        } catch (createErr) {
          if (statusOf(createErr) !== 409) throw createErr; // another process created it first
        }
      }
    },

    async upsertByUserId(batch, attempt) {
      if (batch.length > MAX_BATCH) throw new Error(`at most ${MAX_BATCH} contacts per upsert`);
      const data = await call('POST', '/crm/v3/objects/contacts/batch/upsert', attempt, batch.length, () =>
        contacts.upsertWithHttpInfo({
          inputs: batch.map((p) => ({ id: p.saypro_user_id!, idProperty: 'saypro_user_id', properties: p })),
        }),
      );
      const results: UpsertResult[] = data.results.map((r) => ({
        id: r.id,
        userId: r.properties.saypro_user_id ?? '',
        created: r._new,
      }));
      const errors = 'errors' in data && Array.isArray(data.errors) ? data.errors : [];
      const failures: UpsertFailure[] = errors.map((e) => {
        const ids = (e.context as Record<string, string[]> | undefined)?.ids;
        // HubSpot's message names the other contact's id: it is for our logs' category only, never for the user.
        const conflict = e.category === 'CONFLICT';
        return {
          userId: ids?.[0] ?? null,
          conflict,
          message: conflict
            ? 'the address belongs to another CRM contact, which is not adopted'
            : `${e.category}: ${e.message}`,
        };
      });
      return { results, failures };
    },

    async readByIds(ids, attempt) {
      const out = new Map<string, CrmContact>();
      if (ids.length === 0) return out;
      const data = await call('POST', '/crm/v3/objects/contacts/batch/read', attempt, ids.length, () =>
        contacts.readWithHttpInfo({
          inputs: ids.map((id) => ({ id })),
          properties: READ_PROPERTIES,
          propertiesWithHistory: [],
        }),
      );
      for (const c of data.results)
        out.set(c.id, { id: c.id, properties: c.properties, updatedAt: c.updatedAt ?? null });
      return out;
    },

    isTransient,
    isOutage: isTransient,
  };
}
