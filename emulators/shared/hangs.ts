import type http from 'node:http';

/**
 * Requests held open by a `hang` fault. `hold` resolves true when the time is up and the client is
 * still there, false when it gave up or the emulator is closing (`releaseAll`).
 */
export function createHangs() {
  const pending = new Set<() => void>();
  return {
    hold(ms: number, res: http.ServerResponse): Promise<boolean> {
      return new Promise((resolve) => {
        const done = (connected: boolean) => {
          clearTimeout(timer);
          res.off('close', onClose);
          pending.delete(cancel);
          resolve(connected);
        };
        const onClose = () => done(false);
        const cancel = () => done(false);
        const timer = setTimeout(() => done(!res.destroyed), ms);
        res.on('close', onClose);
        pending.add(cancel);
      });
    },
    releaseAll(): void {
      for (const cancel of [...pending]) cancel();
    },
  };
}
