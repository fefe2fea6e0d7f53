import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEnvFile, startupProblem } from '../../../lib/config';

describe('loadEnvFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-env-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sets what the file names and the environment does not, and nothing else', () => {
    const file = path.join(dir, '.env');
    fs.writeFileSync(file, '# comment\nGATEWAY_PORT=4100\nLOG_LEVEL=debug\nQUOTED="a b"\nEMPTY=\n');
    const env: NodeJS.ProcessEnv = { ENV_FILE: file, LOG_LEVEL: 'warn' };
    expect(loadEnvFile(env).sort()).toEqual(['EMPTY', 'GATEWAY_PORT', 'QUOTED']);
    expect(env).toEqual({ ENV_FILE: file, LOG_LEVEL: 'warn', GATEWAY_PORT: '4100', QUOTED: 'a b', EMPTY: '' });
  });

  it('reads nothing without a file, or with ENV_FILE empty', () => {
    const env: NodeJS.ProcessEnv = { ENV_FILE: path.join(dir, 'missing.env') };
    expect(loadEnvFile(env)).toEqual([]);
    expect(loadEnvFile({ ENV_FILE: '' })).toEqual([]);
  });
});

describe('startupProblem', () => {
  const busy = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:4001'), {
    code: 'EADDRINUSE',
    port: 4001,
    address: '127.0.0.1',
  });

  it('names the variable set to a port in use, in one line', () => {
    const problem = startupProblem(busy, { GATEWAY_PORT: 4000, LISTINGS_PORT: 4001, LOG_LEVEL: 'info' });
    expect(problem).toBe(
      'Port 127.0.0.1:4001 is already in use (another SayPro Graph, or another program): stop it, or set LISTINGS_PORT to a free port (in the environment or .env; 0 picks one).',
    );
  });

  it('says what to do for a privileged port, and nothing for other failures', () => {
    const denied = Object.assign(new Error('listen EACCES'), { code: 'EACCES', port: 80, address: '0.0.0.0' });
    expect(startupProblem(denied, { GATEWAY_PORT: 80 })).toMatch(
      /^Port 0\.0\.0\.0:80 cannot be opened by this user: set GATEWAY_PORT/,
    );
    expect(startupProblem(new Error('boom'), { GATEWAY_PORT: 4000 })).toBeNull();
  });
});
