/**
 * The runner's side channel to the child processes it starts itself (subgraphs, stock gateway):
 * a child reports what it listens on over IPC, and exits when the runner goes away, so a runner
 * killed by a signal leaves nothing behind.
 */

/** The one message a child sends when it is ready: its ports by name. */
export interface ReadyMessage {
  ready: true;
  ports: Record<string, number>;
}

export function reportReady(ports: Record<string, number>): void {
  const message: ReadyMessage = { ready: true, ports };
  process.send?.(message);
}

/** Exits on SIGTERM/SIGINT (after `close`) and as soon as the IPC channel to the runner closes. */
export function exitWithRunner(close: () => Promise<void> | void): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    const hard = setTimeout(() => process.exit(0), 2000);
    hard.unref();
    void Promise.resolve(close()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

export const isReadyMessage = (m: unknown): m is ReadyMessage =>
  typeof m === 'object' &&
  m !== null &&
  (m as ReadyMessage).ready === true &&
  typeof (m as ReadyMessage).ports === 'object';
