import type { Logger } from '../../../lib/logger';
import type { ListingsService } from '../domain/listings.service';

/**
 * Moves ACTIVE listings past their expiry to EXPIRED every `intervalMs`. Several processes may run
 * it: the UPDATE locks the rows it changes, so each listing expires (and emits its event) once.
 */
export function startExpirySweeper(listings: ListingsService, logger: Logger, intervalMs = 60_000): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    listings
      .expireDue()
      .then((n) => n > 0 && logger.info({ expired: n }, 'listings expired'))
      .catch((err: unknown) => logger.error({ err }, 'expiry sweep failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
