import { requiredString, type RestOperation } from './rest-route';

/**
 * The seed's CRM endpoints. POST /crm/add-user takes the seed's body; the name, email and listing
 * count sent to HubSpot are always read from their owners, so client-sent values cannot drift
 * from the truth and are not used.
 */
/** What HubSpot holds comes back null to a caller who may sync the user but not read the contact. */
const CONTACT = 'userId hubspotId syncStatus lastSyncedAt lastError lifecycleStage properties { name value }';
const SYNC = `mutation SeedCrmAddUser($userId: ID!) { syncUserToCrm(userId: $userId) { ${CONTACT} } }`;
const READ = `query SeedCrmUserData($userId: ID!) { crmContact(userId: $userId) { ${CONTACT} } }`;

type Contact = { userId: string; hubspotId: string | null; syncStatus: string; lastSyncedAt: string | null; lastError: string | null; lifecycleStage: string | null; properties: Array<{ name: string; value: string | null }> | null };

const shape = (c: Contact) => {
  const p = Object.fromEntries((c.properties ?? []).map((x) => [x.name, x.value]));
  return {
    user_id: c.userId,
    crm_id: c.hubspotId,
    sync_status: c.syncStatus.toLowerCase(),
    last_synced_at: c.lastSyncedAt,
    last_error: c.lastError,
    lifecycle_stage: c.lifecycleStage,
    name: [p.firstname, p.lastname].filter(Boolean).join(' ') || null,
    email: p.email ?? null,
    listing_count: p.saypro_listing_count != null ? Number(p.saypro_listing_count) : null,
    total_spent: p.saypro_total_spent != null ? Number(p.saypro_total_spent) : null,
    currency: p.saypro_currency ?? null,
  };
};

export const crmRest: Record<string, RestOperation> = {
  /** POST /crm/add-user { user_id, name?, email?, listing_count? } */
  '/crm/add-user': {
    method: 'POST',
    query: SYNC,
    variables: ({ body }) => ({ userId: requiredString(body.user_id, 'user_id') }),
    respond: (data: { syncUserToCrm: Contact }) => shape(data.syncUserToCrm),
    renames: { userId: 'user_id' },
  },
  /** GET /crm/user-data?user_id=… */
  '/crm/user-data': {
    method: 'GET',
    query: READ,
    variables: ({ query }) => ({ userId: requiredString(query.get('user_id') ?? undefined, 'user_id') }),
    respond: (data: { crmContact: Contact | null }) => (data.crmContact ? shape(data.crmContact) : null),
    subject: 'user',
    renames: { userId: 'user_id' },
  },
};
