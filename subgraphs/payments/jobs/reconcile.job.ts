import type { Logger } from '../../../lib/logger';
import type { PaymentsService } from '../domain/payments.service';

/**
 * Every `intervalMs`, finishes payments whose outcome is still unknown (a crash or an outage
 * between charging and recording): the provider, asked again with the same idempotency key,
 * says what happened, and `settle` publishes the event the listing is waiting for.
 */
export function startReconciler(payments: PaymentsService, logger: Logger, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    payments
      .reconcile(intervalMs)
      .then((n) => n > 0 && logger.info({ reconciled: n }, 'payments reconciled'))
      .catch((err: unknown) => logger.error({ err }, 'reconciliation failed'))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
