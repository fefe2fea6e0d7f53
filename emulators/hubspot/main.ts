import { createLogger } from '../../lib/logger';
import { createHubSpotEmulator } from './server';
import { loadEnvFile } from '../../lib/config';

// The same .env as the services (ports, keys): what the environment sets wins.
loadEnvFile();

function numberFromEnv(name: string, fallback: number, check: (n: number) => boolean, what: string): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!check(value)) throw new Error(`${name} must be ${what}, got ${raw}`);
  return value;
}

/**
 * The HubSpot emulator on its own: `node dist/emulators/hubspot/main.js`.
 * HUBSPOT_EMULATOR_PORT (default 4011), HUBSPOT_EMULATOR_RATE_LIMIT (default 100 per 10 s),
 * HUBSPOT_EMULATOR_SEARCH_LAG_MS (default 0), LOG_LEVEL (default info), HUBSPOT_EMULATOR_STATE_FILE
 * (a JSON file that keeps contacts and their ids across restarts; memory when unset).
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', service: 'hubspot-emulator' });
  const port = numberFromEnv(
    'HUBSPOT_EMULATOR_PORT',
    4011,
    (n) => Number.isInteger(n) && n >= 0 && n <= 65535,
    'a port number',
  );
  const rateLimit = numberFromEnv(
    'HUBSPOT_EMULATOR_RATE_LIMIT',
    100,
    (n) => Number.isInteger(n) && n > 0,
    'a positive integer',
  );
  const searchLagMs = numberFromEnv(
    'HUBSPOT_EMULATOR_SEARCH_LAG_MS',
    0,
    (n) => Number.isInteger(n) && n >= 0,
    'a non-negative integer',
  );

  const emulator = createHubSpotEmulator({
    rateLimit,
    searchLagMs,
    stateFile: process.env.HUBSPOT_EMULATOR_STATE_FILE || undefined,
    logger,
  });
  const base = await emulator.listen(port, '127.0.0.1');
  logger.info({ baseUrl: base, rateLimit, searchLagMs }, 'HubSpot emulator listening');
  process.stdout.write(
    `HubSpot emulator: ${base} (SDK basePath, no trailing slash) · contacts page: ${base}/__emulator\n`,
  );

  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'HubSpot emulator closing');
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'HubSpot emulator failed to close');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`HubSpot emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
