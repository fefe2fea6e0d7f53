import { AnalyticsBacklogDocument } from '../generated/graphql';
import { dataOf } from '../helpers/graph-client';
import { registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * GA4_VALIDATE=true: events go to the validation server (/debug/mp/collect), which records nothing,
 * and what it answered shows in the admin view. ANALYTICS_CONSENT_DEFAULT=granted here: a user who
 * never decided is tracked (where the law allows that default).
 */
let stack: TestStack;
let admin: TestUser;

beforeAll(async () => {
  stack = await startTestStack({
    GA4_VALIDATE: 'true',
    ANALYTICS_CONSENT_DEFAULT: 'granted',
    ANALYTICS_SEND_INTERVAL_MS: '50',
    CRM_FLUSH_INTERVAL_MS: '3600000',
  });
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
});
afterAll(() => stack?.stop());

describe('analytics in validation mode', () => {
  it('validates events at /debug/mp/collect, records none, and shows the outcome to admins', async () => {
    await registerUser(stack, 'Eve');
    const view = await eventually(
      async () =>
        dataOf(await stack.graph(AnalyticsBacklogDocument, { recent: 20 }, { token: admin.token })).analyticsBacklog,
      (b) => b.recentDeliveries.length >= 2 && b.queued === 0,
    );
    expect(view.validation).toBe(true);
    expect(view.lastValidationMessages).toEqual([]);
    for (const delivery of view.recentDeliveries)
      expect(delivery).toMatchObject({
        eventNames: ['sign_up'],
        status: 200,
        validation: true,
        validationMessages: [],
      });
    const state = stack.ga4!.state();
    expect(state.received).toEqual([]);
    expect(state.requests.map((r) => r.path)).toEqual(['/debug/mp/collect', '/debug/mp/collect']);
    expect(stack.logs).toContainEqual(
      expect.objectContaining({ msg: 'ga4 call', path: '/debug/mp/collect', status: 200 }),
    );
  });
});
