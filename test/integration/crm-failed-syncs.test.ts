import { CrmContactDocument, CrmFailedSyncsDocument, RetryFailedCrmSyncsDocument } from '../generated/graphql';
import { dataOf, errorOf } from '../helpers/graph-client';
import { eventually } from '../helpers/eventually';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let admin: TestUser;

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    CRM_FLUSH_INTERVAL_MS: '100',
    CRM_MAX_ATTEMPTS: '2',
    PROVIDER_RETRIES: '0',
    PROVIDER_BREAKER_THRESHOLD: '100',
  });
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
  await eventually(
    async () => dataOf(await stack.graph(CrmContactDocument, { userId: admin.id }, { token: admin.token })).crmContact,
    (c) => c.syncStatus === 'SYNCED',
  );
});
afterAll(() => stack?.stop());

describe('failed CRM syncs', () => {
  it('end FAILED after the last attempt, are listed for admins, and sync once retried', async () => {
    stack.hubspot!.setFaults([{ kind: 'server_error' }]);
    const dana = await registerUser(stack, 'Dana Failing');
    await createListing(stack, dana, { category: 'JOBS' });
    const failedContact = await eventually(
      async () => dataOf(await stack.graph(CrmContactDocument, { userId: dana.id }, { token: admin.token })).crmContact,
      (c) => c.syncStatus === 'FAILED',
    );
    expect(failedContact.lastError).toBe('HubSpot unavailable');

    const listed = dataOf(await stack.graph(CrmFailedSyncsDocument, {}, { token: admin.token })).crmFailedSyncs;
    expect(listed.map((c) => c.userId)).toContain(dana.id);
    expect(errorOf(await stack.graph(CrmFailedSyncsDocument, {}, { token: dana.token })).extensions.code).toBe(
      'FORBIDDEN',
    );
    expect(errorOf(await stack.graph(RetryFailedCrmSyncsDocument, {}, { token: dana.token })).extensions.code).toBe(
      'FORBIDDEN',
    );

    stack.hubspot!.clearFaults();
    const retried = dataOf(
      await stack.graph(RetryFailedCrmSyncsDocument, { userIds: [dana.id] }, { token: admin.token }),
    ).retryFailedCrmSyncs;
    expect(retried).toBe(1);
    const synced = await eventually(
      async () => dataOf(await stack.graph(CrmContactDocument, { userId: dana.id }, { token: admin.token })).crmContact,
      (c) => c.syncStatus === 'SYNCED',
    );
    expect(synced.properties?.find((p) => p.name === 'saypro_listing_count')?.value).toBe('1');
    expect(
      dataOf(await stack.graph(CrmFailedSyncsDocument, {}, { token: admin.token })).crmFailedSyncs.map((c) => c.userId),
    ).not.toContain(dana.id);
  });
});
