import { parseArgs } from 'node:util';
import path from 'node:path';
import fs from 'node:fs';
import { ROLES, mintToken, type Role } from '../lib/auth';
import { ConfigError, loadConfig, loadEnvFile } from '../lib/config';
import { loadOrCreateDevSecrets } from '../lib/data-dir';

/**
 * `npm run token -- --user <id> [--role admin] [--expires 12h]`: mints a dev JWT with JWT_SECRET,
 * or with the secret embedded mode generated in DATA_DIR.
 */
const USAGE = 'Usage: npm run token -- --user <user id> [--role admin] [--expires 12h]';

/** What the person typed wrong, in one line (exit 2); never a stack trace. */
function refuse(message: string): never {
  console.error(message);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { user?: string; role?: string[]; expires?: string };
  try {
    ({ values } = parseArgs({
      options: {
        user: { type: 'string' },
        role: { type: 'string', multiple: true },
        expires: { type: 'string', default: '12h' },
      },
    }));
  } catch (err) {
    refuse(`${(err as Error).message.split('\n')[0]}\n${USAGE}`);
  }
  if (!values.user) refuse(USAGE);
  const roles = (values.role ?? ['user']) as Role[];
  const unknown = roles.filter((r) => !ROLES.includes(r));
  if (unknown.length) {
    console.error(`Unknown role ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
    process.exit(2);
  }
  const expiresIn = /^\d+$/.test(values.expires!) ? Number(values.expires) : values.expires!;
  if (
    typeof expiresIn === 'string' &&
    !/^\d+\s*(s|sec|secs|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i.test(expiresIn)
  ) {
    refuse(`--expires takes seconds or a duration such as 30m, 12h or 7d, not ${JSON.stringify(expiresIn)}`);
  }
  let config;
  try {
    loadEnvFile();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) refuse(err.message);
    throw err;
  }
  let secret = config.JWT_SECRET;
  if (!secret) {
    if (!fs.existsSync(path.join(config.DATA_DIR, 'secrets.json'))) {
      console.error(
        `No JWT_SECRET set and no ${path.join(config.DATA_DIR, 'secrets.json')} yet: run \`npm start\` once, or set JWT_SECRET.`,
      );
      process.exit(2);
    }
    secret = loadOrCreateDevSecrets(config.DATA_DIR).JWT_SECRET;
  }
  process.stdout.write(
    (await mintToken({
      secret,
      userId: values.user,
      roles,
      expiresIn,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    })) + '\n',
  );
}

void main();
