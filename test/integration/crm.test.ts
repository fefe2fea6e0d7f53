import { parse } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { randomUUID } from 'node:crypto';
import { CrmContactDocument, SellersCrmDocument, SyncUserToCrmDocument } from '../generated/graphql';
import { dataOf, errorOf } from '../helpers/graph-client';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { startTestStack, type TestStack } from '../helpers/stack';

/** Registration → event → CRM flusher (with its backoff after a HubSpot error) → HubSpot: on a loaded two-core VM 15 s ran out. */
const PIPELINE_MS = 30_000;

let stack: TestStack;
let ada: TestUser;
let bob: TestUser;
let admin: TestUser;

const prop = (contact: { properties?: Array<{ name: string; value?: string | null }> | null }, name: string) =>
  contact.properties?.find((p) => p.name === name)?.value ?? null;
const contactOf =
  (user: TestUser, viewer = user) =>
  async () =>
    dataOf(await stack.graph(CrmContactDocument, { userId: user.id }, { token: viewer.token })).crmContact;

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    CRM_FLUSH_INTERVAL_MS: '100',
    PROVIDER_RETRY_DELAY_MS: '5',
    PROVIDER_BREAKER_COOLDOWN_MS: '300',
    // The outage test reads a contact PENDING in the middle of the outage: with retries this fast the
    // default 8 attempts can be spent before it looks (FAILED is crm-failed-syncs.test.ts's subject).
    CRM_MAX_ATTEMPTS: '100',
  });
  ada = await registerUser(stack, 'Ada Lovelace');
  bob = await registerUser(stack, 'Bob');
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
});
afterAll(() => stack?.stop());
afterEach(() => stack.hubspot!.clearFaults());

describe('crm', () => {
  it('syncs a user on demand with their name, email, listing count and spend', async () => {
    await createListing(stack, ada, { category: 'JOBS' });
    const contact = dataOf(
      await stack.graph(SyncUserToCrmDocument, { userId: ada.id }, { token: ada.token }),
    ).syncUserToCrm;
    expect(contact).toMatchObject({ userId: ada.id, syncStatus: 'SYNCED', lastError: null });
    expect(contact.hubspotId).toMatch(/^\d+$/);
    expect(prop(contact, 'email')).toBe(ada.email);
    expect(prop(contact, 'firstname')).toBe('Ada');
    expect(prop(contact, 'lastname')).toBe('Lovelace');
    expect(prop(contact, 'saypro_user_id')).toBe(ada.id);
    expect(prop(contact, 'saypro_listing_count')).toBe('1');
    expect(prop(contact, 'saypro_total_spent')).toBe('0');
    const again = dataOf(
      await stack.graph(SyncUserToCrmDocument, { userId: ada.id }, { token: ada.token }),
    ).syncUserToCrm;
    expect(again.hubspotId).toBe(contact.hubspotId);
    expect(stack.hubspot!.contacts().filter((c) => c.properties.email === ada.email)).toHaveLength(1);
  });

  it('keeps the contact in step automatically: registration, then new listings update the count', async () => {
    const eve = await registerUser(stack, 'Eve Example');
    const synced = await eventually(contactOf(eve), (c) => c.syncStatus === 'SYNCED', PIPELINE_MS);
    expect(prop(synced, 'saypro_listing_count')).toBe('0');
    for (let i = 0; i < 3; i++) await createListing(stack, eve, { category: 'JOBS', title: `Eve job ${i}` });
    const updated = await eventually(contactOf(eve), (c) => prop(c, 'saypro_listing_count') === '3', PIPELINE_MS);
    expect(prop(updated, 'saypro_listing_count')).toBe('3');
  });

  it('shows CRM data to the user and admins only', async () => {
    expect(
      errorOf(await stack.graph(CrmContactDocument, { userId: ada.id }, { token: bob.token })).extensions.code,
    ).toBe('FORBIDDEN');
    expect(
      errorOf(await stack.graph(SyncUserToCrmDocument, { userId: ada.id }, { token: bob.token })).extensions.code,
    ).toBe('FORBIDDEN');
    expect(
      dataOf(await stack.graph(CrmContactDocument, { userId: ada.id }, { token: admin.token })).crmContact.userId,
    ).toBe(ada.id);
  });

  it('refuses an unknown user with NOT_FOUND and sends nothing', async () => {
    const before = stack.hubspot!.requests().length;
    const result = await stack.graph(SyncUserToCrmDocument, { userId: randomUUID() }, { token: admin.token });
    expect(errorOf(result).extensions.code).toBe('NOT_FOUND');
    expect(stack.hubspot!.requests().length).toBe(before);
  });

  it('reads the contacts of a page of 50 listings’ sellers with one HubSpot batch read', async () => {
    const sellers = await Promise.all(Array.from({ length: 5 }, (_, i) => registerUser(stack, `Crm Seller ${i}`)));
    for (let i = 0; i < 50; i++)
      await createListing(stack, sellers[i % 5]!, { category: 'JOBS', title: `Crm page ${i}` });
    // Settled: HubSpot has the count and no later event has marked the seller PENDING again.
    for (const s of sellers)
      await eventually(
        contactOf(s, admin),
        (c) => c.syncStatus === 'SYNCED' && prop(c, 'saypro_listing_count') === '10',
      );
    const batchReads = () => stack.hubspot!.requests().filter((r) => r.path.endsWith('/batch/read')).length;
    const before = batchReads();
    const page = dataOf(
      await stack.graph(SellersCrmDocument, { filter: { search: 'Crm page' }, first: 50 }, { token: admin.token }),
    );
    expect(page.listings.nodes).toHaveLength(50);
    expect(
      page.listings.nodes.every(
        (n) =>
          n.seller.crmContact?.syncStatus === 'SYNCED' && prop(n.seller.crmContact, 'saypro_listing_count') === '10',
      ),
    ).toBe(true);
    expect(batchReads() - before).toBe(1);
    // Our sync state alone (no HubSpot field asked for) is read from our database, with no HubSpot call.
    const ours = await stack.graph(
      parse(
        `query { listings(first: 50, filter: { search: "Crm page" }) { nodes { seller { crmContact { hubspotId syncStatus lastSyncedAt } } } } }`,
      ) as TypedDocumentNode<{
        listings: { nodes: Array<{ seller: { crmContact: { hubspotId: string | null; syncStatus: string } | null } }> };
      }>,
      {},
      { token: admin.token },
    );
    expect(
      dataOf(ours).listings.nodes.every(
        (n) => n.seller.crmContact?.syncStatus === 'SYNCED' && n.seller.crmContact.hubspotId,
      ),
    ).toBe(true);
    expect(batchReads() - before).toBe(1);
  });

  it('waits out a HubSpot outage and syncs when it is back, losing nothing', async () => {
    stack.hubspot!.setFaults([{ kind: 'server_error', times: 1000 }]);
    const carol = await registerUser(stack, 'Carol Outage');
    await createListing(stack, carol, { category: 'JOBS' });
    const failing = await eventually(contactOf(carol), (c) => c.lastError !== null, PIPELINE_MS);
    expect(failing.syncStatus).toBe('PENDING');
    stack.hubspot!.clearFaults();
    const synced = await eventually(contactOf(carol), (c) => c.syncStatus === 'SYNCED', PIPELINE_MS);
    expect(prop(synced, 'saypro_listing_count')).toBe('1');
  });

  it('never writes an email, a name or the HubSpot token into the logs', () => {
    const crmLines = JSON.stringify(stack.logs.filter((l) => l.service === 'crm' || l.provider === 'hubspot'));
    expect(crmLines.length).toBeGreaterThan(100);
    for (const secret of [ada.email, bob.email, 'Lovelace', 'pat-emulator']) expect(crmLines).not.toContain(secret);
  });
});
