import { Writable } from 'node:stream';
import { createHubSpotEmulator, type HubSpotEmulator } from '../../emulators/hubspot/server';
import { createLogger } from '../../lib/logger';
import { CONTACT_PROPERTIES, toContactProperties, type ContactFacts } from '../../subgraphs/crm/domain/contact-mapping';
import type { CrmGateway } from '../../subgraphs/crm/provider/crm-gateway.port';
import { HubSpotTimeoutError, createHubSpotAdapter } from '../../subgraphs/crm/provider/hubspot.adapter';

let emulator: HubSpotEmulator;
let adapter: CrmGateway;
const lines: string[] = [];
const TOKEN = 'pat-emulator-adapter-test';

const facts = (n: number, overrides: Partial<ContactFacts> = {}): ContactFacts => ({
  userId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  name: `Person Number ${n}`,
  email: `person.${n}@example.com`,
  listingCount: n,
  totalSpent: n * 1000,
  currency: 'USD',
  ...overrides,
});

beforeAll(async () => {
  emulator = createHubSpotEmulator({ rateLimit: 1000, rateWindowMs: 10_000 });
  const url = await emulator.listen();
  const logger = createLogger({
    level: 'info',
    destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }),
  });
  adapter = createHubSpotAdapter({ accessToken: TOKEN, apiUrl: url, timeoutMs: 300, logger });
});
afterAll(() => emulator?.close());
afterEach(() => emulator.clearFaults());

describe('HubSpot adapter against the emulator (real SDK)', () => {
  it('creates our custom contact properties once', async () => {
    await adapter.ensureProperties();
    await adapter.ensureProperties();
    const names = emulator.properties().map((p) => p.name);
    for (const m of CONTACT_PROPERTIES.filter((p) => p.custom))
      expect(names.filter((n) => n === m.property)).toHaveLength(1);
  });

  it('upserts by our user id: created first, updated after, with the mapped properties', async () => {
    const first = await adapter.upsertByUserId([toContactProperties(facts(1)), toContactProperties(facts(2))], 1);
    expect(first.failures).toEqual([]);
    expect(first.results.map((r) => [r.userId, r.created])).toEqual([
      [facts(1).userId, true],
      [facts(2).userId, true],
    ]);
    const again = await adapter.upsertByUserId(
      [toContactProperties(facts(1, { listingCount: 7, name: 'Ada Lovelace King' }))],
      1,
    );
    expect(again.results).toEqual([{ userId: facts(1).userId, id: first.results[0]!.id, created: false }]);
    const stored = emulator.contacts().find((c) => c.id === first.results[0]!.id)!;
    expect(stored.properties).toMatchObject({
      firstname: 'Ada',
      lastname: 'Lovelace King',
      saypro_listing_count: '7',
      saypro_total_spent: '1000',
      saypro_currency: 'USD',
    });
  });

  it('reports per-item failures of a batch (207) without throwing', async () => {
    emulator.setFaults([{ kind: 'partial_batch', failEmails: ['person.4@example.com'], times: 1 }]);
    const outcome = await adapter.upsertByUserId([toContactProperties(facts(3)), toContactProperties(facts(4))], 1);
    expect(outcome.results.map((r) => r.userId)).toEqual([facts(3).userId]);
    expect(outcome.failures).toHaveLength(1);
    expect(outcome.failures[0]).toMatchObject({ userId: facts(4).userId, conflict: false });
  });

  it('never adopts a contact by its address; a change of address moves the user’s own contact', async () => {
    const {
      results: [lead],
    } = await adapter.upsertByUserId([toContactProperties(facts(20))], 1);
    // Someone else claims person.20's address: a conflict, and HubSpot's message (with the other id) is not passed on.
    const taken = await adapter.upsertByUserId(
      [toContactProperties(facts(21, { email: 'person.20@example.com', name: 'Mallory Taker' }))],
      1,
    );
    expect(taken.results).toEqual([]);
    expect(taken.failures).toEqual([
      {
        userId: facts(21).userId,
        conflict: true,
        message: 'the address belongs to another CRM contact, which is not adopted',
      },
    ]);
    expect(emulator.contacts().find((c) => c.id === lead!.id)!.properties).toMatchObject({
      firstname: 'Person',
      saypro_user_id: facts(20).userId,
    });
    // person.20 changes address: the same contact, the new address; the old one is free for someone else's new contact.
    const moved = await adapter.upsertByUserId(
      [toContactProperties(facts(20, { email: 'person.20.new@example.com' }))],
      1,
    );
    expect(moved.results).toEqual([{ userId: facts(20).userId, id: lead!.id, created: false }]);
    expect(emulator.contacts().find((c) => c.id === lead!.id)!.properties.email).toBe('person.20.new@example.com');
    const fresh = await adapter.upsertByUserId([toContactProperties(facts(21, { email: 'person.20@example.com' }))], 1);
    expect(fresh.results[0]).toMatchObject({ userId: facts(21).userId, created: true });
    expect(fresh.results[0]!.id).not.toBe(lead!.id);
  });

  it('reads many contacts in one batch call; unknown ids are absent', async () => {
    const { results } = await adapter.upsertByUserId(
      [5, 6, 7].map((n) => toContactProperties(facts(n))),
      1,
    );
    const before = emulator.requests().length;
    const read = await adapter.readByIds([...results.map((r) => r.id), '999999999'], 1);
    expect(emulator.requests().length - before).toBe(1);
    expect([...read.keys()].sort()).toEqual(results.map((r) => r.id).sort());
    expect(read.get(results[0]!.id)!.properties).toMatchObject({
      saypro_user_id: facts(5).userId,
      email: 'person.5@example.com',
    });
  });

  it('classifies failures: 429, 5xx and timeouts are transient, a 400 is not', async () => {
    const attempt = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    emulator.setFaults([{ kind: 'rate_limit', times: 1 }]);
    expect(adapter.isTransient(await attempt(adapter.upsertByUserId([toContactProperties(facts(8))], 1)))).toBe(true);
    emulator.setFaults([{ kind: 'server_error', times: 1 }]);
    expect(adapter.isTransient(await attempt(adapter.readByIds(['1'], 1)))).toBe(true);
    emulator.setFaults([{ kind: 'hang', ms: 1000, times: 1 }]);
    const timeout = await attempt(adapter.readByIds(['1'], 1));
    expect(timeout).toBeInstanceOf(HubSpotTimeoutError);
    expect(adapter.isTransient(timeout)).toBe(true);
    emulator.clearFaults();
    const invalid = await attempt(
      adapter.upsertByUserId(
        [{ email: 'person.9@example.com', saypro_user_id: facts(9).userId, no_such_property: 'x' }],
        1,
      ),
    );
    expect(invalid).toBeDefined();
    expect(adapter.isTransient(invalid)).toBe(false);
    await expect(
      adapter.upsertByUserId(
        Array.from({ length: 101 }, (_, i) => toContactProperties(facts(100 + i))),
        1,
      ),
    ).rejects.toThrow(/at most 100/);
  });

  it('logs every call with its status and attempt, never the token or an email', () => {
    const calls = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.provider === 'hubspot');
    expect(
      calls.some(
        (c) =>
          c.msg === 'hubspot call' &&
          c.path === '/crm/v3/objects/contacts/batch/upsert' &&
          c.status === 200 &&
          c.attempt === 1,
      ),
    ).toBe(true);
    expect(calls.some((c) => c.msg === 'hubspot call failed' && c.status === 429)).toBe(true);
    const all = lines.join('');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toMatch(/@example\.com/);
  });
});
