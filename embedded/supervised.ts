import { spawn } from 'node:child_process';
import path from 'node:path';
import { createLogger } from '../lib/logger';
import { supervise } from '../lib/supervisor';

/**
 * `npm start`: runs the embedded graph (`main.js`) as a child and starts it again, with backoff,
 * whenever it exits for a reason a restart can fix (a crash, an uncaught error, a kill -9). A bad
 * configuration (exit 2) or a data folder in use (exit 3) ends it; so does Ctrl+C or SIGTERM.
 */
// The child validates the configuration (and exits 2 on a bad one); the supervisor only needs a level.
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const level = LEVELS.find((l) => l === process.env.LOG_LEVEL) ?? 'info';
const logger = createLogger({ level, service: 'supervisor' });
const supervisor = supervise({
  name: 'embedded',
  logger,
  spawn: () =>
    spawn(process.execPath, [path.join(__dirname, 'main.js')], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: process.env,
    }),
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => void supervisor.stop());
}
void supervisor.done.then((code) => process.exit(code));
