import { randomUUID } from 'node:crypto';
import { parse } from 'graphql';
import { ANONYMOUS, API_KEY_SCOPES, type ApiKeyScope, type Viewer } from '../../lib/auth';
import { SYSTEM_VIEWER } from '../../lib/entity-client';
import { PERMISSIONS, type Permission, type Rule } from '../../lib/permissions';
import {
  AnalyticsBacklogDocument,
  ApiKeysDocument,
  CampaignDocument,
  CreateCampaignDocument,
  ChargeListingDocument,
  CreateApiKeyDocument,
  CreateListingDocument,
  CrmContactDocument,
  CrmFailedSyncsDocument,
  CrmSyncJobDocument,
  DeadEventsDocument,
  ListingIndexNowDocument,
  RebuildSitemapDocument,
  ResubmitAllListingsToIndexNowDocument,
  RefundPaymentDocument,
  RetryFailedCrmSyncsDocument,
  SendEmailDocument,
  SetAnalyticsConsentDocument,
  SyncAllUsersToCrmDocument,
  SyncUserToCrmDocument,
  TransactionDocument,
  UpdateListingDocument,
  UpdateEmailPreferencesDocument,
  UpdateUserDocument,
  UserAnalyticsConsentDocument,
  UserDocument,
  UserEmailsDocument,
  UsersDocument,
  type ApiKeyScope as ScopeEnum,
} from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { dataOf, type CallOptions, type GraphResult } from '../helpers/graph-client';
import { createListing, listingInput, registerUser, type TestUser } from '../helpers/fixtures';
import { callSubgraph, viewerHeaderFor } from '../helpers/internal';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * Walks lib/permissions.ts cell by cell through the gateway: every principal against every
 * permission, with a real operation each. A cell the table refuses must be refused (an error, or
 * the sensitive field null); a cell it allows must work.
 */
type Principal = 'anonymous' | 'user' | 'owner' | 'admin' | 'apiKey with its scope' | 'apiKey without it';
const PRINCIPALS: Principal[] = ['anonymous', 'user', 'owner', 'admin', 'apiKey with its scope', 'apiKey without it'];

function expected(rule: Rule, principal: Principal): boolean {
  switch (principal) {
    case 'anonymous':
      return false;
    case 'user':
      return rule.user;
    case 'owner':
      return rule.owner || rule.user;
    case 'admin':
      return rule.admin;
    case 'apiKey with its scope':
      return rule.scope !== undefined;
    case 'apiKey without it':
      return false;
  }
}

let stack: TestStack;
let owner: TestUser;
let other: TestUser;
let admin: TestUser;
let paidTransactionId: string;
const keys = new Map<string, string>(); // scope set → secret

const ENUM: Record<ApiKeyScope, ScopeEnum> = {
  'users:read': 'USERS_READ',
  'payments:read': 'PAYMENTS_READ',
  'crm:read': 'CRM_READ',
  'crm:write': 'CRM_WRITE',
  'email:read': 'EMAIL_READ',
  'email:send': 'EMAIL_SEND',
};
async function keyWith(scopes: ApiKeyScope[]): Promise<string> {
  const id = [...scopes].sort().join(',');
  if (!keys.has(id)) {
    const created = dataOf(
      await stack.graph(
        CreateApiKeyDocument,
        { name: `matrix ${id}`, scopes: scopes.map((s) => ENUM[s]) },
        { token: admin.token },
      ),
    ).createApiKey;
    keys.set(id, created.secret);
  }
  return keys.get(id)!;
}

async function as(principal: Principal, rule: Rule): Promise<CallOptions> {
  switch (principal) {
    case 'anonymous':
      return {};
    case 'user':
      return { token: other.token };
    case 'owner':
      return { token: owner.token };
    case 'admin':
      return { token: admin.token };
    case 'apiKey with its scope':
      return { headers: { 'x-api-key': await keyWith(rule.scope ? [rule.scope] : ['users:read']) } };
    case 'apiKey without it':
      return { headers: { 'x-api-key': await keyWith(API_KEY_SCOPES.filter((s) => s !== rule.scope)) } };
  }
}

const ok = (r: GraphResult<unknown>) => !r.errors?.length;
const campaignInput = () => ({
  name: `Matrix ${randomUUID()}`,
  subject: 'Spring deals',
  headline: 'Spring deals',
  body: 'Fresh listings every day.',
  userIds: [owner.id],
});
/** The viewer the gateway would sign for these call options (for what only the subgraph serves). */
function viewerOf(o: CallOptions): Viewer {
  const user = [owner, other, admin].find((u) => u.token === o.token);
  if (user) return { userId: user.id, roles: user === admin ? ['user', 'admin'] : ['user'] };
  const key = o.headers?.['x-api-key'];
  const scopes = key ? [...keys].find(([, secret]) => secret === key)?.[0].split(',') : undefined;
  return scopes
    ? { userId: null, roles: [], apiKey: { id: 'matrix-key', scopes: scopes as ApiKeyScope[] } }
    : ANONYMOUS;
}
/** listings' internal activation for a listing that does not exist (answers `missing`, changes nothing). */
const ACTIVATE =
  'mutation { activatePaidListing(listingId: "00000000-0000-4000-8000-0000000000a1", amount: 1000, currency: "USD") }';
const activateAs = async (viewer: Viewer) => {
  const url = stack.urls.subgraphs.listings!;
  const r = await callSubgraph(url, ACTIVATE, (body) =>
    viewerHeaderFor(viewer, url, body, stack.config.INTERNAL_SECRET),
  );
  return r.body.data?.activatePaidListing === 'missing';
};

/** An ACTIVE listing of the owner that the seo service has seen (made once). */
let seenListing: Promise<string> | undefined;
const ownerListingSeenBySeo = () =>
  (seenListing ??= (async () => {
    const listing = await createListing(stack, owner, { category: 'JOBS' });
    const page = await eventually(
      async () => (await stack.seo.seo.byListingIds([listing.id]))[0],
      (found) => found?.status === 'ACTIVE',
    );
    expect(page?.listingId).toBe(listing.id);
    return listing.id;
  })());

/** Probes return whether the principal got what the permission guards. */
const PROBES: Record<Permission, (options: CallOptions) => Promise<boolean>> = {
  'user.email': async (o) => {
    const r = await stack.graph(UserDocument, { id: owner.id }, o);
    return r.data?.user.email === owner.email;
  },
  'user.list': async (o) => {
    const r = await stack.graph(UsersDocument, { first: 100 }, o);
    return ok(r) && (r.data?.users.nodes.some((u) => u.id === owner.id) ?? false);
  },
  'user.update': async (o) =>
    ok(await stack.graph(UpdateUserDocument, { id: owner.id, input: { name: 'Olive Owner' } }, o)),
  // Not in the public API: the gateway refuses it to everyone; on listings itself the table decides.
  'listing.activate': async (o) =>
    ok(await stack.graph(parse(ACTIVATE) as never, {}, o)) || (await activateAs(viewerOf(o))),
  'listing.create': async (o) =>
    ok(await stack.graph(CreateListingDocument, { input: listingInput({ category: 'JOBS' }) }, o)),
  'listing.change': async (o) => {
    const listing = await createListing(stack, owner, { category: 'JOBS' });
    return ok(await stack.graph(UpdateListingDocument, { id: listing.id, input: { title: 'Changed title' } }, o));
  },
  'payment.charge': async (o) => {
    const listing = await createListing(stack, owner); // VEHICLES: waits for its fee
    const r = await stack.graph(
      ChargeListingDocument,
      {
        input: {
          listingId: listing.id,
          paymentMethodId: 'pm_card_visa_chargeDeclined',
          idempotencyKey: `matrix-${randomUUID()}`,
        },
      },
      o,
    );
    return ok(r) && r.data?.chargeListing.status === 'DECLINED';
  },
  'payment.read': async (o) => {
    const tx = await stack.graph(TransactionDocument, { id: paidTransactionId }, o);
    return ok(tx) && tx.data?.transaction.id === paidTransactionId;
  },
  'payment.refund': async (o) =>
    ok(await stack.graph(RefundPaymentDocument, { transactionId: paidTransactionId, amount: 1 }, o)),
  'crm.contact.read': async (o) => {
    const r = await stack.graph(CrmContactDocument, { userId: owner.id }, o);
    return ok(r) && r.data?.crmContact.userId === owner.id;
  },
  'crm.sync': async (o) => ok(await stack.graph(SyncUserToCrmDocument, { userId: owner.id }, o)),
  'crm.failed.read': async (o) => ok(await stack.graph(CrmFailedSyncsDocument, {}, o)),
  'crm.failed.retry': async (o) => ok(await stack.graph(RetryFailedCrmSyncsDocument, { userIds: [] }, o)),
  'crm.bulk.start': async (o) => ok(await stack.graph(SyncAllUsersToCrmDocument, {}, o)),
  'crm.bulk.read': async (o) => {
    const job = dataOf(await stack.graph(SyncAllUsersToCrmDocument, {}, { token: admin.token })).syncAllUsersToCrm;
    const r = await stack.graph(CrmSyncJobDocument, { id: job.id }, o);
    return ok(r) && r.data?.crmSyncJob.id === job.id;
  },
  'seo.read': async (o) => {
    const id = await ownerListingSeenBySeo();
    const r = await stack.graph(ListingIndexNowDocument, { id }, o);
    return ok(r) && typeof r.data?.listing.seo?.url === 'string';
  },
  'seo.indexnow.resubmit': async (o) => ok(await stack.graph(ResubmitAllListingsToIndexNowDocument, {}, o)),
  'seo.sitemap.rebuild': async (o) => ok(await stack.graph(RebuildSitemapDocument, {}, o)),
  'email.send': async (o) =>
    ok(
      await stack.graph(
        SendEmailDocument,
        { input: { userId: owner.id, template: 'WELCOME', idempotencyKey: `matrix-${randomUUID()}` } },
        o,
      ),
    ),
  'email.campaign.send': async (o) => ok(await stack.graph(CreateCampaignDocument, { input: campaignInput() }, o)),
  'email.campaign.read': async (o) => {
    const { createCampaign } = dataOf(
      await stack.graph(CreateCampaignDocument, { input: campaignInput() }, { token: admin.token }),
    );
    const r = await stack.graph(CampaignDocument, { id: createCampaign.id }, o);
    return ok(r) && r.data?.campaign.id === createCampaign.id;
  },
  'email.user.read': async (o) => {
    const r = await stack.graph(UserEmailsDocument, { id: owner.id, first: 5 }, o);
    return ok(r) && r.data?.user.emailPreferences != null && r.data.user.emails != null;
  },
  'email.preferences.update': async (o) =>
    ok(await stack.graph(UpdateEmailPreferencesDocument, { userId: owner.id, input: { accountUpdates: true } }, o)),
  'analytics.consent.read': async (o) => {
    const r = await stack.graph(UserAnalyticsConsentDocument, { id: owner.id }, o);
    return r.data?.user.analyticsConsent?.userId === owner.id;
  },
  'analytics.consent.update': async (o) =>
    ok(await stack.graph(SetAnalyticsConsentDocument, { userId: owner.id, granted: false }, o)),
  'analytics.backlog.read': async (o) => ok(await stack.graph(AnalyticsBacklogDocument, { recent: 5 }, o)),
  'ops.events': async (o) => ok(await stack.graph(DeadEventsDocument, { first: 5 }, o)),
  'apiKey.manage': async (o) => ok(await stack.graph(ApiKeysDocument, {}, o)),
};

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    API_KEY_CACHE_SECONDS: '60',
    CRM_FLUSH_INTERVAL_MS: '100000',
  });
  [owner, other, admin] = await Promise.all([
    registerUser(stack, 'Olive'),
    registerUser(stack, 'Oscar'),
    registerUser(stack, 'Admin', ['user', 'admin']),
  ]);
  const listing = await createListing(stack, owner);
  paidTransactionId = dataOf(
    await stack.graph(
      ChargeListingDocument,
      {
        input: {
          listingId: listing.id,
          paymentMethodId: 'pm_card_visa',
          idempotencyKey: `matrix-paid-${randomUUID()}`,
        },
      },
      { token: owner.token },
    ),
  ).chargeListing.transactionId;
});
afterAll(() => stack?.stop());

const cells = (Object.keys(PERMISSIONS) as Permission[]).flatMap((permission) =>
  PRINCIPALS.map((principal) => [permission, principal] as const),
);

describe('authorization matrix (lib/permissions.ts)', () => {
  it.each(cells)('%s by %s', async (permission, principal) => {
    const rule: Rule = PERMISSIONS[permission];
    const got = await PROBES[permission](await as(principal, rule));
    expect({ permission, principal, allowed: got }).toEqual({
      permission,
      principal,
      allowed: expected(rule, principal),
    });
  });

  /** Runs `probe` with one cell of the live table changed, then puts it back. */
  async function withCell<T>(permission: Permission, change: Partial<Rule>, probe: () => Promise<T>): Promise<T> {
    const rule: Rule = PERMISSIONS[permission];
    const before = { ...rule };
    Object.assign(rule, change);
    try {
      return await probe();
    } finally {
      Object.assign(rule, before);
      if (before.scope === undefined) delete rule.scope;
    }
  }

  /** The principal the table lets in first, and the change to the table that shuts it out. */
  const closing = (rule: Rule): [Principal, Partial<Rule>] =>
    rule.owner || rule.user
      ? ['owner', { owner: false, user: false }]
      : rule.admin
        ? ['admin', { admin: false }]
        : ['apiKey with its scope', { scope: undefined }];

  it('listing.activate: our own services may (the system viewer), and closing that cell refuses them too', async () => {
    expect(await activateAs(SYSTEM_VIEWER)).toBe(true);
    expect(await withCell('listing.activate', { system: false }, () => activateAs(SYSTEM_VIEWER))).toBe(false);
    expect(await activateAs(SYSTEM_VIEWER)).toBe(true);
  });

  const openToSomeone = (Object.keys(PERMISSIONS) as Permission[]).filter((p) => {
    const rule: Rule = PERMISSIONS[p];
    return rule.owner || rule.user || rule.admin || rule.scope !== undefined;
  });
  it.each(openToSomeone)('%s: closing its cell in the table refuses what it allowed', async (permission) => {
    const rule: Rule = PERMISSIONS[permission];
    const [principal, change] = closing(rule);
    const options = await as(principal, rule);
    expect({
      permission,
      principal,
      allowed: await withCell(permission, change, () => PROBES[permission](options)),
    }).toEqual({ permission, principal, allowed: false });
    expect({ permission, principal, allowed: await PROBES[permission](options) }).toEqual({
      permission,
      principal,
      allowed: true,
    });
  });

  it.each([
    ['payment.refund', 'owner', { owner: true }],
    ['user.update', 'user', { user: true }],
    ['ops.events', 'user', { user: true }],
  ] as Array<[Permission, Principal, Partial<Rule>]>)(
    '%s: opening it to the %s in the table lets them in',
    async (permission, principal, change) => {
      const rule: Rule = PERMISSIONS[permission];
      const options = await as(principal, rule);
      expect(await PROBES[permission](options)).toBe(false);
      expect(await withCell(permission, change, () => PROBES[permission](options))).toBe(true);
    },
  );

  it('leaves no permission without a probe and no sensitive read unguarded by a scope or an admin', () => {
    expect(Object.keys(PROBES).sort()).toEqual(Object.keys(PERMISSIONS).sort());
    expect(cells.length).toBe(Object.keys(PERMISSIONS).length * PRINCIPALS.length);
  });
});
