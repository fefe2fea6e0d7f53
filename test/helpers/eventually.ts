import { inspect } from 'node:util';

/** Thrown when `eventually` runs out of time: the message carries the last value it read. */
export class EventuallyTimeoutError extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly lastValue: unknown,
  ) {
    super(
      `condition not met within ${timeoutMs} ms; last value: ${inspect(lastValue, { depth: 4, breakLength: 120 }).slice(0, 2000)}`,
    );
    this.name = 'EventuallyTimeoutError';
  }
}

/**
 * Reads until `done` holds and returns that value; throws EventuallyTimeoutError with the last
 * value when `timeoutMs` passes first. For effects of event consumers and background jobs.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value)) {
    if (Date.now() >= deadline) throw new EventuallyTimeoutError(timeoutMs, value);
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}
