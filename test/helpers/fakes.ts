import type { EventBus, EventEnvelope, EventName, EventPayloads } from '../../lib/events';
import { createLogger, type Logger } from '../../lib/logger';
import { createProviderPolicy, type ProviderPolicy } from '../../lib/resilience';

/** Thrown by fakes for a failure the policy treats as transient (a 503, a timeout). */
export class FakeOutage extends Error {
  constructor(message = 'provider unavailable') {
    super(message);
    this.name = 'FakeOutage';
  }
}

export const silentLogger: Logger = createLogger({ level: 'silent' });

/** The shared resilience policy with fast retries, treating FakeOutage as transient. */
export function fastPolicy(
  provider: string,
  options: { retries?: number; breakerThreshold?: number } = {},
): ProviderPolicy {
  return createProviderPolicy({
    provider,
    isTransient: (err) => err instanceof FakeOutage,
    logger: silentLogger,
    retries: options.retries ?? 2,
    initialDelayMs: 1,
    maxDelayMs: 2,
    breakerThreshold: options.breakerThreshold ?? 1000,
  });
}

/**
 * An event bus that only records what a domain service publishes (the service passes its
 * transaction; a rolled-back transaction still leaves its publish here, which tests can see).
 */
export function recordingBus(): EventBus & { published: Array<EventEnvelope> } {
  const published: EventEnvelope[] = [];
  const bus = {
    published,
    async publish<N extends EventName>(_tx: unknown, name: N, data: EventPayloads[N]) {
      const envelope = {
        id: `evt-${published.length + 1}`,
        name,
        source: 'test',
        occurredAt: new Date().toISOString(),
        data,
      } as EventEnvelope<N>;
      published.push(envelope as EventEnvelope);
      return envelope;
    },
    withSource: () => bus,
  };
  return bus as unknown as EventBus & { published: EventEnvelope[] };
}
