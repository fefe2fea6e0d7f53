import { createShutdown } from '../../lib/lifecycle';
import { createLogger } from '../../lib/logger';
import { INDEXNOW_DEV_KEY, loadEnvFile } from '../../lib/config';
import { createIndexNowEmulator } from './server';

// The same .env as the services (ports, keys): what the environment sets wins.
loadEnvFile();

/**
 * Runs the emulator on its own: `npm run start:indexnow-emulator`. INDEXNOW_EMULATOR_PORT (default
 * 4014); it accepts the dev key, and INDEXNOW_KEY too when set (a services-mode seo can point
 * INDEXNOW_ENDPOINT here). INDEXNOW_EMULATOR_STATE_FILE: a JSON file that keeps what it received
 * across restarts (memory when unset).
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', service: 'indexnow-emulator' });
  const port = Number(process.env.INDEXNOW_EMULATOR_PORT ?? 4014);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`INDEXNOW_EMULATOR_PORT must be a port number, not ${process.env.INDEXNOW_EMULATOR_PORT}`);
    process.exit(2);
  }
  const own = process.env.INDEXNOW_KEY ? [process.env.INDEXNOW_KEY] : [];
  const emulator = createIndexNowEmulator({
    keys: [INDEXNOW_DEV_KEY, ...own],
    stateFile: process.env.INDEXNOW_EMULATOR_STATE_FILE || undefined,
    logger,
  });
  const shutdown = createShutdown(logger);
  shutdown.onSignals();
  shutdown.add('indexnow emulator', () => emulator.close());
  const url = await emulator.listen(port, process.env.INDEXNOW_EMULATOR_HOST || '127.0.0.1');
  console.log(`IndexNow emulator listening on ${url}/indexnow (activity: ${url}/__emulator)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
