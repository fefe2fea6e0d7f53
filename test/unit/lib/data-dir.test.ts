import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../lib/config';
import { DataDirLockedError, loadOrCreateDevSecrets, lockDataDir, projectRoot } from '../../../lib/data-dir';

let root: string;
let sleeper: ChildProcess;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-data-dir-'));
  sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
});

afterAll(() => {
  sleeper?.kill('SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

let n = 0;
const freshDir = () => path.join(root, `dir-${++n}`, 'nested');
const lockFile = (dir: string) => path.join(dir, 'LOCK');

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  const pid = Number.parseInt(child.stdout.toString().trim(), 10);
  expect(Number.isInteger(pid) && pid > 0).toBe(true);
  return pid;
}

describe('lockDataDir', () => {
  it('creates the folder and a LOCK file holding this pid; release removes it', () => {
    const dir = freshDir();
    const release = lockDataDir(dir);
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
    release();
    expect(fs.existsSync(lockFile(dir))).toBe(false);
    expect(() => release()).not.toThrow();
  });

  it('can be taken again by this process after release', () => {
    const dir = freshDir();
    lockDataDir(dir)();
    const release = lockDataDir(dir);
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
    release();
  });

  it('refuses a folder held by another live process, naming its pid', () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    const pid = sleeper.pid!;
    fs.writeFileSync(lockFile(dir), `${pid}\n`);
    let error: unknown;
    try {
      lockDataDir(dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect(error).toMatchObject({ name: 'DataDirLockedError', dir, pid });
    expect((error as Error).message).toContain(`(pid ${pid})`);
    expect(fs.readFileSync(lockFile(dir), 'utf8').trim()).toBe(String(pid));
  });

  it.each([
    ['the pid of a process that exited', () => String(deadPid())],
    ['no pid at all', () => ''],
    ['garbage', () => 'not-a-pid'],
  ])('takes over a lock holding %s', (_, content) => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(lockFile(dir), content());
    const release = lockDataDir(dir);
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(String(process.pid));
    release();
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('does not remove a lock that another process holds by the time of release', () => {
    const dir = freshDir();
    const release = lockDataDir(dir);
    fs.writeFileSync(lockFile(dir), String(sleeper.pid));
    release();
    expect(fs.readFileSync(lockFile(dir), 'utf8')).toBe(String(sleeper.pid));
  });
});

describe('loadOrCreateDevSecrets', () => {
  it('creates secrets.json readable only by its owner, with secrets the config accepts', () => {
    const dir = freshDir();
    const secrets = loadOrCreateDevSecrets(dir);
    const file = path.join(dir, 'secrets.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(secrets);
    expect(secrets.JWT_SECRET).not.toBe(secrets.INTERNAL_SECRET);
    expect(() =>
      loadConfig({ JWT_SECRET: secrets.JWT_SECRET, INTERNAL_SECRET: secrets.INTERNAL_SECRET }),
    ).not.toThrow();
  });

  it('returns the same secrets on the next call, and other secrets in another folder', () => {
    const dir = freshDir();
    const first = loadOrCreateDevSecrets(dir);
    expect(loadOrCreateDevSecrets(dir)).toEqual(first);
    expect(loadOrCreateDevSecrets(freshDir()).JWT_SECRET).not.toBe(first.JWT_SECRET);
  });

  it('keeps the secrets a file has and fills in the missing ones', () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ JWT_SECRET: 'left-over' }), { mode: 0o600 });
    const secrets = loadOrCreateDevSecrets(dir);
    expect(secrets.JWT_SECRET).toBe('left-over'); // dev tokens minted before stay valid
    expect(secrets.STRIPE_WEBHOOK_SECRET).toMatch(/^whsec_/);
    expect(secrets.INTERNAL_SECRET).toEqual(expect.any(String));
    expect(loadOrCreateDevSecrets(dir)).toEqual(secrets);
  });
});

describe('projectRoot', () => {
  it('is the folder holding package.json', () => {
    expect(fs.existsSync(path.join(projectRoot(), 'package.json'))).toBe(true);
    expect(path.resolve(__dirname, '../../..')).toBe(projectRoot());
  });
});
