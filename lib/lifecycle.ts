import type { Logger } from './logger';

export type Closer = { name: string; close: () => Promise<void> };

/**
 * Runs closers in reverse order of registration (last opened, first closed) once, on SIGTERM or
 * SIGINT or when called. A second signal exits at once.
 */
export function createShutdown(logger: Logger) {
  const closers: Closer[] = [];
  let running: Promise<void> | undefined;

  const shutdown = (reason: string): Promise<void> => {
    running ??= (async () => {
      logger.info({ reason }, 'shutting down');
      for (const closer of [...closers].reverse()) {
        try {
          await closer.close();
        } catch (err) {
          logger.error({ err, closer: closer.name }, 'error while closing');
        }
      }
      logger.info('stopped');
    })();
    return running;
  };

  return {
    add(name: string, close: () => Promise<void> | void) {
      closers.push({ name, close: async () => close() });
    },
    shutdown,
    /** Installs signal handlers that shut down and exit. */
    onSignals() {
      let signalled = false;
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.on(signal, () => {
          if (signalled) process.exit(1);
          signalled = true;
          void shutdown(signal).then(() => process.exit(0));
        });
      }
    },
  };
}
export type Shutdown = ReturnType<typeof createShutdown>;
