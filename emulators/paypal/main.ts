import { createShutdown } from '../../lib/lifecycle';
import { createLogger } from '../../lib/logger';
import { loadEnvFile } from '../../lib/config';
import { createPayPalEmulator, EMULATOR_CLIENT } from './server';

// The same .env as the services (ports, keys): what the environment sets wins.
loadEnvFile();

/**
 * Runs the emulator on its own: `npm run start:paypal-emulator`. PAYPAL_EMULATOR_STATE_FILE (a JSON
 * file that keeps orders, captures, refunds, events and request ids across restarts; memory when unset).
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', service: 'paypal-emulator' });
  const port = Number(process.env.PAYPAL_EMULATOR_PORT ?? 4013);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PAYPAL_EMULATOR_PORT must be a port number, not ${process.env.PAYPAL_EMULATOR_PORT}`);
    process.exit(2);
  }
  // The app's own credentials work too, so a services-mode payments process can point PAYPAL_API_URL here.
  const own =
    process.env.PAYPAL_CLIENT_ID && process.env.PAYPAL_CLIENT_SECRET
      ? [{ id: process.env.PAYPAL_CLIENT_ID, secret: process.env.PAYPAL_CLIENT_SECRET }]
      : [];
  const emulator = createPayPalEmulator({
    clients: [EMULATOR_CLIENT, ...own],
    webhookId: process.env.PAYPAL_WEBHOOK_ID || undefined,
    webhookUrl: process.env.PAYPAL_WEBHOOK_URL || undefined,
    stateFile: process.env.PAYPAL_EMULATOR_STATE_FILE || undefined,
    logger,
  });
  const shutdown = createShutdown(logger);
  shutdown.onSignals();
  shutdown.add('paypal emulator', () => emulator.close());
  const url = await emulator.listen(port, process.env.PAYPAL_EMULATOR_HOST || '127.0.0.1');
  console.log(`PayPal emulator listening on ${url} (activity: ${url}/__emulator)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
