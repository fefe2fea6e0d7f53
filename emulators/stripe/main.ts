import { createShutdown } from '../../lib/lifecycle';
import { createLogger } from '../../lib/logger';
import { createStripeEmulator } from './server';
import { loadEnvFile } from '../../lib/config';

// The same .env as the services (ports, keys): what the environment sets wins.
loadEnvFile();

/**
 * Runs the emulator on its own: `node dist/emulators/stripe/main.js`. STRIPE_EMULATOR_STATE_FILE
 * (a JSON file) keeps its objects, events and idempotency keys across restarts; memory when unset.
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', service: 'stripe-emulator' });
  const port = Number(process.env.STRIPE_EMULATOR_PORT ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`STRIPE_EMULATOR_PORT must be a port number, not ${process.env.STRIPE_EMULATOR_PORT}`);
    process.exit(2);
  }
  const emulator = createStripeEmulator({
    webhookSecret: process.env.STRIPE_WEBHOOK_SECRET || 'whsec_emulator',
    webhookUrl: process.env.STRIPE_WEBHOOK_URL || undefined,
    stateFile: process.env.STRIPE_EMULATOR_STATE_FILE || undefined,
    logger,
  });
  const shutdown = createShutdown(logger);
  shutdown.onSignals();
  shutdown.add('stripe emulator', () => emulator.close());
  const url = await emulator.listen(port, process.env.STRIPE_EMULATOR_HOST || '127.0.0.1');
  console.log(`Stripe emulator listening on ${url} (dashboard: ${url}/__emulator)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
