import type { Logger } from '../../../lib/logger';
import type { EmailService } from '../domain/email.service';

/**
 * Every `intervalMs` (and at once when mail is queued), sends due mail until none is left.
 * Returns the stop function.
 */
export function startMailSender(email: EmailService, logger: Logger, intervalMs: number): () => void {
  let running = false;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void (async () => {
      try {
        do {
          again = false;
          let handled = 0;
          for (let n = await email.flush(); n > 0; n = await email.flush()) handled += n;
          if (handled > 0) logger.debug({ handled }, 'mail sent');
        } while (again);
      } catch (err) {
        logger.error({ error: (err as Error).name }, 'mail sender failed');
      } finally {
        running = false;
      }
    })();
  };
  const timer = setInterval(run, intervalMs);
  timer.unref();
  email.onQueued = run;
  return () => {
    clearInterval(timer);
    email.onQueued = () => undefined;
  };
}
