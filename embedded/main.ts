import '../lib/telemetry';
import 'reflect-metadata';
import path from 'node:path';
import { loadConfig, loadEnvFile, startupProblem, ConfigError, type Config } from '../lib/config';
import { DataDirLockedError, dataDirLayout, loadOrCreateDevSecrets, lockDataDir } from '../lib/data-dir';
import { createLogger } from '../lib/logger';
import { createShutdown } from '../lib/lifecycle';
import { onSupervisorStop } from '../lib/supervisor';
import { tracingFromConfig } from '../lib/tracing';
import { startEmbedded } from './stack';
import { hasDatabase, loadTemplate } from './template';

/**
 * `npm start`: the whole graph in one process with embedded defaults. No keys, no servers to
 * install: PGlite in DATA_DIR, secrets generated there on first start, every service on loopback.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    loadEnvFile();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  let release: () => void;
  try {
    release = lockDataDir(config.DATA_DIR);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      console.error(err.message);
      process.exit(3);
    }
    throw err;
  }
  const shutdown = createShutdown(logger);
  shutdown.add('data-dir lock', release);
  const tracing = tracingFromConfig(config, 'saypro-graph');
  if (tracing) shutdown.add('tracing', () => tracing.shutdown());
  shutdown.onSignals();
  onSupervisorStop(() => void shutdown.shutdown('supervisor').then(() => process.exit(0)));

  const secrets = loadOrCreateDevSecrets(config.DATA_DIR);
  const started = Date.now();
  const layout = dataDirLayout(config.DATA_DIR);
  // A new folder starts from a migrated template instead of PGlite's initdb; the migrations run on top.
  const loadDataDir = !config.DATABASE_URL && !hasDatabase(layout.database) ? await loadTemplate(logger) : undefined;
  let stack: Awaited<ReturnType<typeof startEmbedded>>;
  try {
    stack = await startEmbedded({
      config: {
        ...config,
        JWT_SECRET: config.JWT_SECRET ?? secrets.JWT_SECRET,
        INTERNAL_SECRET: config.INTERNAL_SECRET ?? secrets.INTERNAL_SECRET,
        STRIPE_WEBHOOK_SECRET: config.STRIPE_WEBHOOK_SECRET ?? secrets.STRIPE_WEBHOOK_SECRET,
      },
      dataDir: layout.database,
      loadDataDir,
      emulatorStateDir: layout.emulators,
      logger,
      shutdown,
    });
  } catch (err) {
    // What a person can fix (a port in use) is one line naming the variable; anything else keeps its trace.
    const problem = startupProblem(err, config);
    if (!problem) throw err;
    console.error(problem);
    await shutdown.shutdown('start failed');
    process.exit(2); // as a bad configuration: the supervisor does not restart it
  }
  const readyMs = Date.now() - started;
  logger.info({ readyMs, gateway: stack.urls.gateway, subgraphs: stack.urls.subgraphs }, 'SayPro Graph is up');
  process.stdout.write(
    [
      '',
      `  SayPro Graph is running (embedded mode, ready in ${readyMs} ms)`,
      `  GraphQL gateway   ${stack.urls.gateway}   (open it in a browser for Apollo Sandbox)`,
      ...((config.SANDBOX ?? config.NODE_ENV !== 'production')
        ? [
            `  GraphiQL          ${stack.urls.gateway.replace(/\/graphql$/, '/graphiql')}   (works offline: headers editor, schema docs)`,
            `  REST docs         ${stack.urls.gateway.replace(/\/graphql$/, '/rest-docs')}   (works offline; the document: /openapi.json)`,
          ]
        : []),
      ...Object.entries(stack.urls.subgraphs).map(([name, url]) => `  ${`${name} subgraph`.padEnd(17)} ${url}`),
      ...Object.entries(stack.urls.emulators).map(([name, url]) => `  ${`${name} (local)`.padEnd(17)} ${url}`),
      ...(stack.sendgrid
        ? [`  Mailbox           ${stack.urls.emulators.sendgrid}   (every mail sent, rendered, with its events)`]
        : []),
      ...(stack.urls.metrics
        ? [`  Metrics           ${stack.urls.metrics}   (Prometheus, every service; loopback only)`]
        : []),
      `  Data              ${path.resolve(config.DATA_DIR)}   (${config.DATABASE_URL ? 'emulator state; the database is DATABASE_URL' : 'database and emulator state'}: kept across restarts)`,
      '',
      '  Dev token:   npm run token -- --user <user id> [--role admin]',
      '  Stop:        Ctrl+C',
      "  Start clean: stop, then npm run reset (deletes the database and the emulators' state; docs/local-data.md)",
      '',
    ].join('\n') + '\n',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
