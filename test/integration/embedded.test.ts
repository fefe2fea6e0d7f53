import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateListingDocument, RegisterUserDocument, UserDocument } from '../generated/graphql';
import { projectRoot } from '../../lib/data-dir';
import { createGraphClient, dataOf } from '../helpers/graph-client';
import { listingInput } from '../helpers/fixtures';
import { freePort, startProcess, waitReady, type ServiceProcess } from '../helpers/processes';

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
  // Every port free, so a developer's `npm start` (or another run) on this machine does not collide.
  const [gatewayPort, listingsPort, paymentsPort, crmPort, stripePort, hubspotPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  env = {
    DATA_DIR: dataDir,
    GATEWAY_PORT: String(gatewayPort),
    LISTINGS_PORT: String(listingsPort),
    PAYMENTS_PORT: String(paymentsPort),
    CRM_PORT: String(crmPort),
    STRIPE_EMULATOR_PORT: String(stripePort),
    HUBSPOT_EMULATOR_PORT: String(hubspotPort),
    LOG_LEVEL: 'warn',
  };
  gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
}, 90_000);

afterAll(async () => {
  await running?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('embedded mode (npm start)', () => {
  let userId: string;

  it('starts with no configuration, prints where everything is, and serves the Sandbox page', async () => {
    running = await start();
    expect(running.output()).toContain(gatewayUrl);
    expect(running.output()).toContain('npm run token');
    const page = await fetch(gatewayUrl, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/embeddable-sandbox|apollo-server-landing-page/);
    const secrets = fs.statSync(path.join(dataDir, 'secrets.json'));
    expect(secrets.mode & 0o777).toBe(0o600);
  }, 90_000);

  it('mints working dev tokens with `npm run token`', async () => {
    const graph = createGraphClient(gatewayUrl);
    userId = dataOf(await graph(RegisterUserDocument, { input: { name: 'Embedded', email: 'embedded@example.com' } })).registerUser.id;
    const token = execFileSync(process.execPath, [path.join(projectRoot(), 'dist/scripts/token.js'), '--user', userId], {
      cwd: projectRoot(),
      env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
    })
      .toString()
      .trim();
    const created = dataOf(await graph(CreateListingDocument, { input: listingInput() }, { token }));
    expect(created.createListing.seller.id).toBe(userId);
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
});
