import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateListingDocument, RegisterUserDocument, UserDocument } from '../generated/graphql';
import { projectRoot } from '../../lib/data-dir';
import { createGraphClient, dataOf } from '../helpers/graph-client';
import { eventually } from '../helpers/eventually';
import { listingInput } from '../helpers/fixtures';
import { STACK_PORT_KEYS } from '../../lib/config';
import { freePortsFor, startProcess, waitReady, type ServiceProcess } from '../helpers/processes';

/** `npm start`'s process: the whole graph in one process on a PGlite folder that survives restarts. */
let dataDir: string;
let env: Record<string, string>;
let running: ServiceProcess | undefined;
let gatewayUrl: string;

async function start(): Promise<ServiceProcess> {
  const proc = startProcess('dist/embedded/main.js', env);
  await waitReady(new URL('/health/ready', gatewayUrl).toString(), proc, 60_000);
  return proc;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-embedded-'));
  const ports: Record<string, string> = {};
  Object.assign(ports, await freePortsFor(STACK_PORT_KEYS));
  const gatewayPort = ports.GATEWAY_PORT;
  env = { DATA_DIR: dataDir, ...ports, LOG_LEVEL: 'warn' };
  gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
}, 90_000);

afterAll(async () => {
  await running?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('embedded mode (npm start)', () => {
  it('reads .env, and a port in use stops the start with one line naming its variable (exit 2, as a bad configuration; no stack trace)', async () => {
    // Something else holds a port; .env (named by ENV_FILE here) moves listings onto it.
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const held = (holder.address() as net.AddressInfo).port;
    const envFile = path.join(dataDir, 'test.env');
    fs.writeFileSync(envFile, `# a developer's .env\nLISTINGS_PORT=${held}\n`);
    const { LISTINGS_PORT: _fromEnvironment, ...rest } = env;
    const proc = startProcess('dist/embedded/main.js', {
      ...rest,
      DATA_DIR: path.join(dataDir, 'busy'),
      ENV_FILE: envFile,
    });
    try {
      const code = await Promise.race([
        proc.exited,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`still running: ${proc.output()}`)), 80_000)),
      ]);
      expect(code).toBe(2);
      expect(proc.output()).toContain(`Port 127.0.0.1:${held} is already in use`);
      expect(proc.output()).toContain('set LISTINGS_PORT to a free port');
      expect(proc.output()).not.toMatch(/^\s+at /m);
    } finally {
      // Stopped before the port is freed: a stack still starting would otherwise take it and run on.
      await proc.stop(1_000);
      holder.close();
    }
  }, 90_000);

  let userId: string;

  it('starts with no configuration, prints where everything is, and serves the Sandbox page', async () => {
    running = await start();
    expect(running.output()).toContain(gatewayUrl);
    expect(running.output()).toContain('npm run token');
    const mailbox = /Mailbox\s+(http:\/\/\S+)/.exec(running.output())?.[1];
    expect(mailbox).toBe(`http://127.0.0.1:${env.SENDGRID_EMULATOR_PORT}/`);
    const inbox = await fetch(mailbox!);
    expect(inbox.status).toBe(200);
    expect(await inbox.text()).toContain('Mailbox');
    const page = await fetch(gatewayUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/embeddable-sandbox|apollo-server-landing-page/);
    const secrets = fs.statSync(path.join(dataDir, 'secrets.json'));
    expect(secrets.mode & 0o777).toBe(0o600);
  }, 90_000);

  it('mints working dev tokens with `npm run token`', async () => {
    const graph = createGraphClient(gatewayUrl);
    userId = dataOf(await graph(RegisterUserDocument, { input: { name: 'Embedded', email: 'embedded@example.com' } }))
      .registerUser.id;
    const token = execFileSync(
      process.execPath,
      [path.join(projectRoot(), 'dist/scripts/token.js'), '--user', userId],
      {
        cwd: projectRoot(),
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ENV_FILE: '' },
      },
    )
      .toString()
      .trim();
    const created = dataOf(await graph(CreateListingDocument, { input: listingInput() }, { token }));
    expect(created.createListing.seller.id).toBe(userId);
    // A mistyped flag or duration is one line and exit 2, never a stack trace.
    for (const [args, message] of [
      [['--usr', userId], /Unknown option '--usr'[\s\S]*Usage: npm run token/],
      [['--user', userId, '--expires', 'soon'], /--expires takes seconds or a duration/],
      [['--user', userId, '--role', 'root'], /Unknown role root/],
    ] as const) {
      const run = spawnSync(process.execPath, [path.join(projectRoot(), 'dist/scripts/token.js'), ...args], {
        cwd: projectRoot(),
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ENV_FILE: '' },
      });
      expect({ status: run.status, stderr: run.stderr.toString() }).toEqual({
        status: 2,
        stderr: expect.stringMatching(message),
      });
      expect(run.stderr.toString()).not.toMatch(/^\s+at /m);
    }
  });

  it('refuses a second process on the same data folder, with a clear message', async () => {
    const second = startProcess('dist/embedded/main.js', env);
    expect(await second.exited).toBe(3);
    expect(second.output()).toMatch(/data folder .* is in use by another SayPro Graph process \(pid \d+\)/);
    // The first one is untouched.
    expect((await fetch(new URL('/health/ready', gatewayUrl))).status).toBe(200);
  });

  it('stops cleanly and keeps its data across a restart', async () => {
    expect(await running!.stop()).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'LOCK'))).toBe(false);
    running = await start();
    const { user } = dataOf(await createGraphClient(gatewayUrl)(UserDocument, { id: userId }));
    expect(user).toMatchObject({ id: userId, name: 'Embedded' });
  }, 90_000);

  it("comes back by itself under npm start's supervisor after its process is killed (kill -9), with its data", async () => {
    expect(await running!.stop()).toBe(0);
    running = undefined;
    const supervisor = startProcess('dist/embedded/supervised.js', env);
    /** The graph's process: the supervisor's child (Linux /proc). */
    const child = async () =>
      Number(
        fs
          .readFileSync(`/proc/${supervisor.proc.pid}/task/${supervisor.proc.pid}/children`, 'utf8')
          .trim()
          .split(/\s+/)[0],
      ) || undefined;
    try {
      await waitReady(new URL('/health/ready', gatewayUrl).toString(), supervisor, 60_000);
      const first = (await child())!;
      process.kill(first, 'SIGKILL');
      await eventually(child, (pid) => pid !== undefined && pid !== first, 15_000);
      await waitReady(new URL('/health/ready', gatewayUrl).toString(), supervisor, 60_000);
      expect(supervisor.output()).toMatch(/"msg":"supervised process exited; restarting"/);
      expect(supervisor.output()).toMatch(/"signal":"SIGKILL"/);
      const { user } = dataOf(await createGraphClient(gatewayUrl)(UserDocument, { id: userId }));
      expect(user).toMatchObject({ id: userId, name: 'Embedded' });
    } finally {
      expect(await supervisor.stop()).toBe(0); // SIGTERM: the supervisor asks its child to shut down, and both exit 0
    }
    expect(fs.existsSync(path.join(dataDir, 'LOCK'))).toBe(false);
  }, 150_000);
});
