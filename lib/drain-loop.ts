import type { Logger } from './logger';

export interface DrainLoopOptions {
  /** How often a round starts (a round still running is not started again). */
  intervalMs: number;
  /** One batch of work; how many items it took. A round calls it until it takes none. */
  batch: () => Promise<number>;
  logger: Logger;
  /** The error line a failed round logs. */
  failure: string;
  /** The fields of a failed round's log line. @default the error's name alone (provider messages can hold personal data) */
  errorFields?: (err: Error) => Record<string, unknown>;
  /** After a round that took something: how many in all. */
  drained?: (total: number) => void;
  /** A tick is skipped while this says no (a service still setting up). */
  ready?: () => boolean;
}

/**
 * The background pipelines' loop: every `intervalMs`, unless the last round is still running,
 * takes batches until none is due. Returns the stop function; the timer does not hold the process.
 */
export function startDrainLoop(options: DrainLoopOptions): () => void {
  const { batch, logger } = options;
  let running = false;
  const timer = setInterval(() => {
    if (running || (options.ready && !options.ready())) return;
    running = true;
    void (async () => {
      try {
        let total = 0;
        for (let n = await batch(); n > 0; n = await batch()) total += n;
        if (total > 0) options.drained?.(total);
      } catch (err) {
        const fields = options.errorFields?.(err as Error) ?? { error: (err as Error).name };
        logger.error(fields, options.failure);
      } finally {
        running = false;
      }
    })();
  }, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
