import { ConfigError, loadConfig, requireSecrets, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { createShutdown, type Shutdown } from './lifecycle';

/**
 * Shared start of a service run on its own (services mode): validated config with the secrets it
 * needs, a logger, signal handling. A bad config exits with every problem listed.
 */
export async function runService(
  service: string,
  start: (parts: { config: Config & { JWT_SECRET: string; INTERNAL_SECRET: string }; logger: Logger; shutdown: Shutdown }) => Promise<string>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
    requireSecrets(config, ['JWT_SECRET', 'INTERNAL_SECRET']);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, service });
  const shutdown = createShutdown(logger);
  shutdown.onSignals();
  try {
    const url = await start({ config: config as Config & { JWT_SECRET: string; INTERNAL_SECRET: string }, logger, shutdown });
    logger.info({ url }, `${service} ready`);
  } catch (err) {
    logger.fatal({ err }, `${service} failed to start`);
    await shutdown.shutdown('start failed');
    process.exit(1);
  }
}
