import { createShutdown } from '../../lib/lifecycle';
import { createLogger } from '../../lib/logger';
import { GA4_EMULATOR_STREAM, loadEnvFile } from '../../lib/config';
import { createGa4Emulator } from './server';

// The same .env as the services (ports, keys): what the environment sets wins.
loadEnvFile();

/**
 * Runs the emulator on its own: `npm run start:ga4-emulator`. GA4_EMULATOR_PORT (default 4015),
 * GA4_EMULATOR_STATE_FILE (a JSON file that keeps what it received across restarts; memory when unset).
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', service: 'ga4-emulator' });
  const port = Number(process.env.GA4_EMULATOR_PORT ?? 4015);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`GA4_EMULATOR_PORT must be a port number, not ${process.env.GA4_EMULATOR_PORT}`);
    process.exit(2);
  }
  const emulator = createGa4Emulator({ stateFile: process.env.GA4_EMULATOR_STATE_FILE || undefined, logger });
  const shutdown = createShutdown(logger);
  shutdown.onSignals();
  shutdown.add('ga4 emulator', () => emulator.close());
  const url = await emulator.listen(port, '127.0.0.1');
  console.log(
    `GA4 emulator listening on ${url} (received events: ${url}/__emulator; stream ${GA4_EMULATOR_STREAM.measurementId})`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
