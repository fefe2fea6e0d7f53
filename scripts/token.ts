import { parseArgs } from 'node:util';
import path from 'node:path';
import fs from 'node:fs';
import { ROLES, mintToken, type Role } from '../lib/auth';
import { loadConfig } from '../lib/config';
import { loadOrCreateDevSecrets } from '../lib/data-dir';

/**
 * `npm run token -- --user <id> [--role admin] [--expires 12h]`: mints a dev JWT with JWT_SECRET,
 * or with the secret embedded mode generated in DATA_DIR.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      role: { type: 'string', multiple: true },
      expires: { type: 'string', default: '12h' },
    },
  });
  if (!values.user) {
    console.error('Usage: npm run token -- --user <user id> [--role admin] [--expires 12h]');
    process.exit(2);
  }
  const roles = (values.role ?? ['user']) as Role[];
  const unknown = roles.filter((r) => !ROLES.includes(r));
  if (unknown.length) {
    console.error(`Unknown role ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
    process.exit(2);
  }
  const config = loadConfig();
  let secret = config.JWT_SECRET;
  if (!secret) {
    if (!fs.existsSync(path.join(config.DATA_DIR, 'secrets.json'))) {
      console.error(`No JWT_SECRET set and no ${path.join(config.DATA_DIR, 'secrets.json')} yet: run \`npm start\` once, or set JWT_SECRET.`);
      process.exit(2);
    }
    secret = loadOrCreateDevSecrets(config.DATA_DIR).JWT_SECRET;
  }
  const expiresIn = /^\d+$/.test(values.expires!) ? Number(values.expires) : values.expires!;
  process.stdout.write((await mintToken({ secret, userId: values.user, roles, expiresIn, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE })) + '\n');
}

void main();
