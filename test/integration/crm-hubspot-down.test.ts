import { createHubSpotEmulator, type HubSpotEmulator } from '../../emulators/hubspot/server';
import { CrmContactDocument } from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { registerUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { freePort } from '../helpers/processes';
import { startTestStack, type TestStack } from '../helpers/stack';

/** crm starting (or restarting after a crash) while HubSpot is down: nothing listens at its URL yet. */
let stack: TestStack;
let hubspot: HubSpotEmulator | undefined;
let hubspotPort: number;

const readiness = async () => {
  const res = await fetch(new URL('/health/ready', stack.urls.subgraphs.crm!));
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
};

beforeAll(async () => {
  hubspotPort = await freePort();
  stack = await startTestStack({
    HUBSPOT_API_URL: `http://127.0.0.1:${hubspotPort}`,
    CRM_FLUSH_INTERVAL_MS: '100',
    PROVIDER_RETRIES: '0',
    PROVIDER_RETRY_DELAY_MS: '50',
    PROVIDER_BREAKER_COOLDOWN_MS: '500',
  });
});
afterAll(async () => {
  await stack?.stop();
  await hubspot?.close();
});

describe('crm while HubSpot is down', () => {
  it('starts and serves, says so in readiness, and syncs what changed meanwhile once HubSpot is back', async () => {
    const ready = await readiness();
    expect(ready).toEqual({
      status: 200,
      checks: expect.objectContaining({ database: 'up', queue: 'up', hubspot_properties: 'degraded' }),
    });
    const ada = await registerUser(stack, 'Ada Waiting', ['user', 'admin']);
    const contact = async () =>
      dataOf(await stack.graph(CrmContactDocument, { userId: ada.id }, { token: ada.token })).crmContact;
    // Recorded from its event, held until the properties exist (nothing is sent, so no attempt is used up).
    expect(await eventually(contact, (c) => c?.syncStatus === 'PENDING')).toMatchObject({ syncStatus: 'PENDING' });

    hubspot = createHubSpotEmulator();
    await hubspot.listen(hubspotPort, '127.0.0.1');
    await eventually(readiness, (r) => r.checks.hubspot_properties === 'up', 15_000);
    expect(hubspot.properties().map((p) => p.name)).toEqual(
      expect.arrayContaining(['saypro_user_id', 'saypro_listing_count']),
    );
    const synced = await eventually(contact, (c) => c?.syncStatus === 'SYNCED', 15_000);
    expect(synced.hubspotId).toBe(hubspot.contacts().find((c) => c.properties.email === ada.email)?.id);
  });
});
