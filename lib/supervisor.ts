import type { ChildProcess } from 'node:child_process';
import type { Logger } from './logger';
import { backoffDelayMs } from './resilience';

export interface SupervisorOptions {
  /** What is supervised, in the logs. */
  name: string;
  /** Starts the child: a fresh process each time. It must have an IPC channel (`stdio` with 'ipc'). */
  spawn: () => ChildProcess;
  logger: Logger;
  /** First restart delay, ms; doubles (with jitter) for every crash in a row. @default 1000 */
  initialDelayMs?: number;
  /** Longest restart delay, ms. @default 30000 */
  maxDelayMs?: number;
  /** A child that ran this long before it exited counts as healthy: the backoff starts over. @default 60000 */
  stableMs?: number;
  /** Exit codes that restarting cannot fix (0: it stopped; 2: bad configuration; 3: data folder in use). @default [0, 2, 3] */
  finalExitCodes?: number[];
  /** How long a child gets to stop on `stop()` before SIGKILL, ms. @default 20000 */
  stopTimeoutMs?: number;
}

export interface Supervisor {
  /** Resolves with the exit code the supervisor should end with (the child's final one). */
  done: Promise<number>;
  /** Restarts so far. */
  restarts(): number;
  /** The running child's pid, if one runs. */
  pid(): number | undefined;
  /** Asks the child to shut down (an IPC message, so a terminal's Ctrl+C it also got does not count twice), no more restarts. */
  stop(): Promise<number>;
}

/** The message a supervised child shuts down on (see `onSupervisorStop`). */
export const STOP_MESSAGE = 'saypro:shutdown';

/**
 * Keeps a child process running: when it exits for a reason a restart can fix (a crash, an
 * uncaught error, a kill -9), it is started again after a backoff that grows with the crashes in
 * a row, and every exit and restart is logged. For production, a real supervisor (systemd,
 * Kubernetes) does the same from outside: see docs/operations.md, "Supervising services in production".
 */
export function supervise(options: SupervisorOptions): Supervisor {
  const { logger, name } = options;
  const finalCodes = new Set(options.finalExitCodes ?? [0, 2, 3]);
  let child: ChildProcess | undefined;
  let restarts = 0;
  let crashesInARow = 0;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const start = () => {
    timer = undefined;
    const startedAt = Date.now();
    const proc = options.spawn();
    child = proc;
    logger.info({ supervised: name, pid: proc.pid, restarts }, 'supervised process started');
    proc.once('exit', (code, signal) => {
      child = undefined;
      const uptimeMs = Date.now() - startedAt;
      if (stopping || (code !== null && finalCodes.has(code))) {
        logger.info({ supervised: name, code, signal, uptimeMs }, 'supervised process exited; not restarting');
        finish(code ?? 1);
        return;
      }
      crashesInARow = uptimeMs >= (options.stableMs ?? 60_000) ? 1 : crashesInARow + 1;
      const delayMs = backoffDelayMs(crashesInARow, options.initialDelayMs ?? 1000, options.maxDelayMs ?? 30_000);
      restarts++;
      logger.error(
        { supervised: name, code, signal, uptimeMs, crashesInARow, restartInMs: delayMs, restarts },
        'supervised process exited; restarting',
      );
      timer = setTimeout(start, delayMs);
    });
  };
  start();

  return {
    done,
    restarts: () => restarts,
    pid: () => child?.pid,
    async stop() {
      stopping = true;
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
        finish(0);
      }
      const running = child;
      if (running && running.exitCode === null && running.signalCode === null) {
        if (running.connected) running.send(STOP_MESSAGE);
        else running.kill('SIGTERM');
        const kill = setTimeout(() => running.kill('SIGKILL'), options.stopTimeoutMs ?? 20_000);
        kill.unref();
        await done;
        clearTimeout(kill);
      }
      return done;
    },
  };
}

/** In a supervised child: shut down when the supervisor says so. */
export function onSupervisorStop(shutdown: () => void): void {
  process.on('message', (message) => {
    if (message === STOP_MESSAGE) shutdown();
  });
}
