import { sql } from 'drizzle-orm';
import type { Database } from './db';
import type { EventBus } from './events';
import type { ReadinessCheck } from './http';
import type { ProviderPolicy } from './resilience';

/**
 * The readiness checks every service shares, one shape for all: the database answers a query,
 * pg-boss answers, and each provider's circuit (open only degrades: the service still serves what
 * needs no provider, and queues what does).
 */
export function serviceReadiness(parts: {
  db: Database;
  bus: Pick<EventBus, 'boss'>;
  providers?: Record<string, Pick<ProviderPolicy, 'state'>>;
}): ReadinessCheck[] {
  return [
    { name: 'database', kind: 'database', check: async () => void (await parts.db.execute(sql`select 1`)) },
    { name: 'queue', kind: 'queue', check: async () => void (await parts.bus.boss.getQueues()) },
    ...Object.entries(parts.providers ?? {}).map(
      ([name, policy]): ReadinessCheck => ({
        name,
        kind: 'provider',
        degradesOnly: true,
        check: async () => {
          const state = policy.state();
          return state === 'open'
            ? { state: 'degraded', detail: 'circuit open: calls fail fast' }
            : { state: 'up', detail: `circuit ${state}` };
        },
      }),
    ),
  ];
}
