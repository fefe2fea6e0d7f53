import { Authorized, type AuthChecker } from 'type-graphql';
import { isAdmin, isSystem, type ApiKeyScope, type Viewer } from './auth';
import { ForbiddenError } from './errors';

/**
 * The authorization matrix: who may do each sensitive thing. SECURITY.md prints it, the resolvers
 * ask `allows`, and test/integration/authorization-matrix.test.ts walks every cell through the
 * gateway. Every decision is `allows` reading this table at the time of the call: services
 * `authorize` before they act, and fields marked `@ReadableBy` are null for whoever the table
 * refuses, whichever query or mutation returned their object. Principals: anonymous, a signed-in user, the owner (the user the data is about, or the
 * seller of the listing), an admin, and an API key (which may only do what its scopes open; a key
 * is never an owner, never an admin).
 */
export interface Rule {
  /** The user the data belongs to. */
  owner: boolean;
  /** Any signed-in user (owner or not). */
  user: boolean;
  admin: boolean;
  /** The API key scope that opens it; none means no API key may. */
  scope?: ApiKeyScope;
  /** Our own services (the system viewer) may, though no admin may: a step of theirs that is no one's to call. */
  system?: boolean;
  /** What it covers, for SECURITY.md. */
  covers: string;
}

export const PERMISSIONS = {
  'user.email': { owner: true, user: false, admin: true, scope: 'users:read', covers: '`User.email`' },
  'user.list': {
    owner: false,
    user: false,
    admin: true,
    scope: 'users:read',
    covers: '`users` (every user, a page at a time)',
  },
  'user.update': { owner: true, user: false, admin: true, covers: '`updateUser`' },
  'listing.create': { owner: true, user: true, admin: true, covers: '`createListing` (the caller becomes the seller)' },
  'listing.activate': {
    owner: false,
    user: false,
    admin: false,
    system: true,
    covers: '`activatePaidListing` (payments, as the system, right after a charge succeeded; not in the public API)',
  },
  'listing.change': {
    owner: true,
    user: false,
    admin: true,
    covers: '`updateListing`, `submitListing`, `withdrawListing`; non-ACTIVE listings in `listing`/`listings`',
  },
  'payment.charge': {
    owner: true,
    user: false,
    admin: false,
    covers:
      '`chargeListing`, `startPayPalCheckout`, `capturePayPalCheckout`, `cancelPayPalCheckout` (the seller of the listing)',
  },
  'payment.read': {
    owner: true,
    user: false,
    admin: true,
    scope: 'payments:read',
    covers: '`transaction`, `Listing.payment`, `Listing.paymentStatus`, `User.payments`, `User.totalSpent`',
  },
  'payment.refund': { owner: false, user: false, admin: true, covers: '`refundPayment`' },
  'crm.contact.read': {
    owner: true,
    user: false,
    admin: true,
    scope: 'crm:read',
    covers: '`crmContact`, `User.crmContact`, GET /crm/user-data',
  },
  'crm.sync': {
    owner: true,
    user: false,
    admin: true,
    scope: 'crm:write',
    covers: '`syncUserToCrm`, POST /crm/add-user',
  },
  'crm.failed.read': { owner: false, user: false, admin: true, scope: 'crm:read', covers: '`crmFailedSyncs`' },
  'crm.failed.retry': { owner: false, user: false, admin: true, scope: 'crm:write', covers: '`retryFailedCrmSyncs`' },
  'crm.bulk.start': { owner: false, user: false, admin: true, scope: 'crm:write', covers: '`syncAllUsersToCrm`' },
  'crm.bulk.read': { owner: false, user: false, admin: true, scope: 'crm:read', covers: '`crmSyncJob`' },
  'email.send': {
    owner: false,
    user: false,
    admin: true,
    scope: 'email:send',
    covers: '`sendEmail`, POST /email/send',
  },
  'email.campaign.send': {
    owner: false,
    user: false,
    admin: true,
    scope: 'email:send',
    covers: '`createCampaign`, `sendCampaign`',
  },
  'email.campaign.read': {
    owner: false,
    user: false,
    admin: true,
    scope: 'email:read',
    covers: '`campaign`, GET /email/campaign-status',
  },
  'email.user.read': {
    owner: true,
    user: false,
    admin: true,
    scope: 'email:read',
    covers: '`User.emailPreferences`, `User.emails`, `emailMessage`',
  },
  'email.preferences.update': { owner: true, user: false, admin: true, covers: '`updateEmailPreferences`' },
  'analytics.consent.read': {
    owner: true,
    user: false,
    admin: true,
    covers: '`User.analyticsConsent`',
  },
  'analytics.consent.update': { owner: true, user: false, admin: true, covers: '`setAnalyticsConsent`' },
  'analytics.backlog.read': {
    owner: false,
    user: false,
    admin: true,
    covers: '`analyticsBacklog` (GA4 delivery backlog, validation messages, recent requests)',
  },
  'seo.read': {
    owner: true,
    user: false,
    admin: true,
    covers: '`Listing.seo` (its IndexNow submission state; the seller of the listing)',
  },
  'seo.indexnow.resubmit': {
    owner: false,
    user: false,
    admin: true,
    covers: '`resubmitListingToIndexNow`, `resubmitAllListingsToIndexNow`',
  },
  'seo.sitemap.rebuild': { owner: false, user: false, admin: true, covers: '`rebuildSitemap`' },
  'ops.events': {
    owner: false,
    user: false,
    admin: true,
    covers: '`deadEvents`, `replayDeadEvents` (every event consumers gave up on)',
  },
  'apiKey.manage': { owner: false, user: false, admin: true, covers: '`createApiKey`, `revokeApiKey`, `apiKeys`' },
} as const satisfies Record<string, Rule>;
export type Permission = keyof typeof PERMISSIONS;

/**
 * May `viewer` do `permission` on data owned by `ownerId` (a user id; null or omitted when the
 * data has no single owner)?
 */
export function allows(viewer: Viewer, permission: Permission, ownerId?: string | null): boolean {
  const rule: Rule = PERMISSIONS[permission];
  if (rule.system && isSystem(viewer)) return true;
  if (viewer.apiKey) return rule.scope !== undefined && viewer.apiKey.scopes.includes(rule.scope);
  if (rule.admin && isAdmin(viewer)) return true;
  if (viewer.userId === null) return false;
  if (rule.user) return true;
  return rule.owner && ownerId != null && viewer.userId === ownerId;
}

/** Who a rule opens to, in words, for the refusal message and the REST facade's docs. */
export function openTo(rule: Rule): string {
  const who = [
    rule.user ? 'any signed-in user' : rule.owner ? 'the user it belongs to' : null,
    rule.admin ? 'admins' : null,
    rule.scope ? `an API key with ${rule.scope}` : null,
    rule.system ? 'our own services' : null,
  ];
  return who.filter(Boolean).join(', ') || 'no one';
}

/**
 * The one check before a service acts: FORBIDDEN unless the table allows `viewer` to do
 * `permission` on data owned by `ownerId`.
 */
export function authorize(viewer: Viewer, permission: Permission, ownerId?: string | null): void {
  if (!allows(viewer, permission, ownerId))
    throw new ForbiddenError(`Not allowed: ${permission} is for ${openTo(PERMISSIONS[permission])}`);
}

/** A field guarded by a read permission; `owner` names the user the object is about. */
export interface ReadGuard {
  permission: Permission;
  owner: (root: any) => string | null | undefined;
}

/**
 * Marks an object field as readable only with `permission` on `owner(object)`: null for everyone
 * else (lib/federation.ts builds every subgraph with `readGuardChecker` and auth mode "null"). The
 * guard sits on the type, so a mutation's payload obeys the same rule as the query that reads it.
 */
export function ReadableBy<T>(permission: Permission, owner: (root: T) => string | null | undefined = () => null) {
  return Authorized<ReadGuard>({ permission, owner });
}

export const readGuardChecker: AuthChecker<{ viewer: Viewer }, ReadGuard> = ({ root, context }, guards) =>
  guards.every((guard) => allows(context.viewer, guard.permission, guard.owner(root)));
