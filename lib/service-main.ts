import path from 'node:path';
import { ConfigError, loadConfig, loadEnvFile, requireSecrets, startupProblem, type Config } from './config';
import { lockDataDir } from './data-dir';
import { createDatabase, type DatabaseHandle } from './db';
import { createEventBus, type EventBus } from './events';
import { createLogger, type Logger } from './logger';
import { createShutdown, type Shutdown } from './lifecycle';
import { tracingFromConfig } from './tracing';

/**
 * Shared start of a service run on its own (services mode): validated config with the secrets it
 * needs, a logger, signal handling. A bad config exits with every problem listed.
 */
export async function runService(
  service: string,
  start: (parts: {
    config: Config & { INTERNAL_SECRET: string };
    logger: Logger;
    shutdown: Shutdown;
  }) => Promise<string>,
): Promise<void> {
  let config: Config;
  try {
    loadEnvFile();
    config = loadConfig();
    // Every service signs or checks the internal viewer header; only the gateway verifies client
    // tokens, and with a JWKS it needs no shared JWT secret at all.
    requireSecrets(
      config,
      service === 'gateway' && !config.JWT_JWKS_URL ? ['JWT_SECRET', 'INTERNAL_SECRET'] : ['INTERNAL_SECRET'],
    );
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, service, format: config.LOG_FORMAT });
  const shutdown = createShutdown(logger);
  // First in, so last out: spans of the drain are still exported.
  const tracing = tracingFromConfig(config, service);
  if (tracing) shutdown.add('tracing', () => tracing.shutdown());
  shutdown.onSignals();
  try {
    const url = await start({ config: config as Config & { INTERNAL_SECRET: string }, logger, shutdown });
    logger.info({ url }, `${service} ready`);
  } catch (err) {
    const problem = startupProblem(err, config);
    if (problem) logger.fatal(`${service} failed to start: ${problem}`);
    else logger.fatal({ err }, `${service} failed to start`);
    await shutdown.shutdown('start failed');
    process.exit(problem ? 2 : 1); // a port in use is configuration to change, as exit 2 says elsewhere
  }
}

/**
 * A service's own database and event bus: PostgreSQL at DATABASE_URL (or PGlite in DATA_DIR, under
 * its lock), its migrations applied, pg-boss started; all closed on shutdown.
 */
export async function openServiceStore(parts: {
  config: Config;
  logger: Logger;
  shutdown: Shutdown;
  service: string;
  migrations: Array<[folder: string, schema: string]>;
}): Promise<{ handle: DatabaseHandle; bus: EventBus }> {
  const { config, shutdown } = parts;
  if (!config.DATABASE_URL) shutdown.add('data-dir lock', lockDataDir(config.DATA_DIR));
  const handle = await createDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATABASE_URL ? undefined : path.join(config.DATA_DIR, 'pglite'),
    poolMax: config.DATABASE_POOL_MAX,
    logger: parts.logger,
  });
  shutdown.add('database', () => handle.close());
  for (const [folder, schema] of parts.migrations) await handle.migrate(folder, schema);
  const bus = await createEventBus({
    handle,
    source: parts.service,
    logger: parts.logger,
    leaseSeconds: config.EVENT_LEASE_SECONDS,
  });
  shutdown.add('event bus', () => bus.stop());
  return { handle, bus };
}
