import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ChargeListingDocument,
  ConfirmEmailDocument,
  CreateListingDocument,
  CrmContactDocument,
  ListingPaymentDocument,
  RegisterUserDocument,
} from '../generated/graphql';
import { lockDataDir, projectRoot } from '../../lib/data-dir';
import { createGraphClient, dataOf } from '../helpers/graph-client';
import { eventually } from '../helpers/eventually';
import { listingInput } from '../helpers/fixtures';
import { STACK_PORT_KEYS } from '../../lib/config';
import { freePortsFor, startProcess, waitReady, type ServiceProcess } from '../helpers/processes';

/**
 * `npm start`'s data folder holds the emulators' state beside the database, so what was in flight
 * when it stopped carries on after a restart; `npm run reset` starts clean.
 */

interface MailboxState {
  messages: Array<{ to: Array<{ email: string }>; subject: string; text?: string }>;
}

const childEnv = (dataDir: string) => ({ PATH: process.env.PATH ?? '', DATA_DIR: dataDir, ENV_FILE: '' });

/** `npm run reset`'s script, as npm runs it once built. */
const reset = (dataDir: string, ...args: string[]) =>
  spawnSync(process.execPath, [path.join(projectRoot(), 'dist/scripts/reset.js'), ...args], {
    cwd: projectRoot(),
    env: childEnv(dataDir),
    encoding: 'utf8',
  });

describe('a restart of npm start', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let running: ServiceProcess | undefined;
  let gatewayUrl: string;
  const emulator = (name: 'STRIPE' | 'SENDGRID' | 'HUBSPOT', route: string) =>
    `http://127.0.0.1:${env[`${name}_EMULATOR_PORT`]}${route}`;
  const mailbox = async () => (await (await fetch(emulator('SENDGRID', '/__emulator/state'))).json()) as MailboxState;

  async function start(): Promise<ServiceProcess> {
    const proc = startProcess('dist/embedded/main.js', env);
    await waitReady(new URL('/health/ready', gatewayUrl).toString(), proc, 90_000);
    return proc;
  }

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-local-data-'));
    env = { DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    Object.assign(env, await freePortsFor(STACK_PORT_KEYS));
    gatewayUrl = `http://127.0.0.1:${env.GATEWAY_PORT}/graphql`;
  });

  afterAll(async () => {
    await running?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('finishes a 3-D Secure payment begun before it, with the mailbox and the CRM contact intact', async () => {
    running = await start();
    expect(running.output()).toContain(`Data              ${dataDir}`);
    expect(running.output()).toContain('npm run reset');
    const graph = createGraphClient(gatewayUrl);
    const email = `restart.${randomUUID().slice(0, 8)}@example.com`;
    const { id: userId } = dataOf(
      await graph(RegisterUserDocument, { input: { name: 'Restart', email } }),
    ).registerUser;
    const token = execFileSync(
      process.execPath,
      [path.join(projectRoot(), 'dist/scripts/token.js'), '--user', userId],
      { cwd: projectRoot(), env: childEnv(dataDir) },
    )
      .toString()
      .trim();
    // The address is confirmed through the link in its mail, as the user would.
    const confirmation = await eventually(mailbox, (box) =>
      box.messages.some((m) => m.to[0]?.email === email && /Confirm this address: \S+/.test(m.text ?? '')),
    );
    const link = /Confirm this address: (\S+)/.exec(
      confirmation.messages.find((m) => m.to[0]?.email === email)!.text!,
    )![1]!;
    dataOf(await graph(ConfirmEmailDocument, { token: new URL(link).searchParams.get('token')! }));

    const listing = dataOf(
      await graph(CreateListingDocument, { input: listingInput({ title: 'Restart bike' }) }, { token }),
    ).createListing;
    const pending = dataOf(
      await graph(
        ChargeListingDocument,
        {
          input: {
            listingId: listing.id,
            paymentMethodId: 'pm_card_authenticationRequired',
            idempotencyKey: `restart-${randomUUID()}`,
          },
        },
        { token },
      ),
    ).chargeListing;
    expect(pending).toMatchObject({ status: 'REQUIRES_ACTION', listing: { status: 'PENDING_PAYMENT' } });
    const paymentIntentId = pending.transaction!.providerReference!;
    const contact = await eventually(
      async () => dataOf(await graph(CrmContactDocument, { userId }, { token })).crmContact,
      (c) => c?.syncStatus === 'SYNCED' && Boolean(c.hubspotId),
    );

    // While it runs, a reset is refused and removes nothing.
    const refused = reset(dataDir, '--yes');
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(/SayPro Graph is running on .* \(pid \d+\): stop it first/);
    expect(fs.existsSync(path.join(dataDir, 'pglite'))).toBe(true);

    expect(await running.stop()).toBe(0); // SIGTERM: a clean stop writes the emulators' last changes
    running = undefined;
    expect(fs.readdirSync(path.join(dataDir, 'emulators')).sort()).toEqual([
      'hubspot.json',
      'sendgrid.json',
      'stripe.json',
    ]);

    running = await start();
    // The mailbox and the HubSpot contact are as they were, and crmContact's HubSpot id resolves.
    expect((await mailbox()).messages.some((m) => m.to[0]?.email === email && m.text?.includes(link))).toBe(true);
    const hubspot = await fetch(
      emulator('HUBSPOT', `/crm/v3/objects/contacts/${contact!.hubspotId}?properties=email`),
      { headers: { authorization: 'Bearer pat-test' } },
    );
    expect(hubspot.status).toBe(200);
    expect(((await hubspot.json()) as { properties: { email: string } }).properties.email).toBe(email);
    expect(dataOf(await graph(CrmContactDocument, { userId }, { token })).crmContact?.hubspotId).toBe(
      contact!.hubspotId,
    );

    // The seller finishes 3-D Secure (the emulator's page posts this), and the listing goes live.
    const completed = await fetch(
      emulator('STRIPE', `/__emulator/payment_intents/${paymentIntentId}/complete_action`),
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    );
    expect(completed.status).toBe(200);
    const live = await eventually(
      async () => dataOf(await graph(ListingPaymentDocument, { id: listing.id }, { token })).listing,
      (l) => l?.status === 'ACTIVE',
      30_000,
    );
    expect(live).toMatchObject({ status: 'ACTIVE', paymentStatus: 'SUCCEEDED' });
    const receipt = await eventually(mailbox, (box) =>
      box.messages.some((m) => m.to[0]?.email === email && m.subject.startsWith('Your SayPro receipt')),
    );
    expect(receipt.messages.filter((m) => m.to[0]?.email === email).map((m) => m.subject)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Your SayPro receipt/)]),
    );

    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 240_000);
});

describe('npm run reset', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-reset-'));
    fs.mkdirSync(path.join(dataDir, 'pglite', 'base'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'pglite', 'base', '1'), 'x'.repeat(4096));
    fs.mkdirSync(path.join(dataDir, 'emulators'));
    for (const name of ['stripe.json', 'sendgrid.json', 'hubspot.json', 'stripe.json.corrupt-2026-01-01T00-00-00-000Z'])
      fs.writeFileSync(path.join(dataDir, 'emulators', name), '{}');
    fs.writeFileSync(path.join(dataDir, 'secrets.json'), '{}');
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('with --yes deletes the database and the emulator state, keeps the dev secrets, and says what it removed', () => {
    const run = reset(dataDir, '--yes');
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.readdirSync(dataDir)).toEqual(['secrets.json']);
    expect(run.stdout).toContain(`Removed ${path.join(dataDir, 'pglite')}`);
    expect(run.stdout).toContain(`Removed ${path.join(dataDir, 'emulators')}`);
    expect(run.stdout).toContain(`Kept ${path.join(dataDir, 'secrets.json')}`);
    // Again: nothing left to remove.
    const again = reset(dataDir, '--yes');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('Nothing to reset');
  });

  it('asks before deleting, and without a terminal to ask at deletes nothing unless given --yes', () => {
    const run = reset(dataDir);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('pass --yes');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(fs.readdirSync(dataDir).sort()).toEqual(['emulators', 'pglite', 'secrets.json']);
    expect(fs.existsSync(path.join(dataDir, 'LOCK'))).toBe(false); // the lock it took is released
  });

  it('refuses while a process holds the data folder, and names it', () => {
    const release = lockDataDir(dataDir); // this test's process stands in for a running graph
    try {
      const run = reset(dataDir, '--yes');
      expect(run.status).toBe(3);
      expect(run.stderr).toContain(`(pid ${process.pid})`);
      expect(fs.readdirSync(dataDir).sort()).toEqual(['LOCK', 'emulators', 'pglite', 'secrets.json']);
    } finally {
      release();
    }
  });

  it('refuses a mistyped flag in one line', () => {
    const run = reset(dataDir, '--yse');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Unknown option '--yse'[\s\S]*Usage: npm run reset/);
    expect(fs.readdirSync(dataDir).sort()).toEqual(['emulators', 'pglite', 'secrets.json']);
  });
});
