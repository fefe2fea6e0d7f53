import { z } from 'zod/v4';
import { restOperation, type RestOperation } from './rest-route';
import { dateTime, requiredText, restEnum } from './rest-schema';

/**
 * The seed's CRM endpoints. POST /crm/add-user takes the seed's body; the name, email and listing
 * count sent to HubSpot are always read from their owners, so client-sent values cannot drift
 * from the truth and are not used.
 */
/** What HubSpot holds comes back null to a caller who may sync the user but not read the contact. */
const CONTACT = 'userId hubspotId syncStatus lastSyncedAt lastError lifecycleStage properties { name value }';
const SYNC = `mutation SeedCrmAddUser($userId: ID!) { syncUserToCrm(userId: $userId) { ${CONTACT} } }`;
const READ = `query SeedCrmUserData($userId: ID!) { crmContact(userId: $userId) { ${CONTACT} } }`;

type Contact = {
  userId: string;
  hubspotId: string | null;
  syncStatus: string;
  lastSyncedAt: string | null;
  lastError: string | null;
  lifecycleStage: string | null;
  properties: Array<{ name: string; value: string | null }> | null;
};

const syncStatus = restEnum({ name: 'CrmSyncStatus' }, 'Whether HubSpot has the user as of last_synced_at.');
const readOnly = (description: string) =>
  `${description} Null to a caller who may sync the user but not read the contact.`;

/** A user's HubSpot contact, as both endpoints answer it. */
const contact = z.object({
  user_id: z.string(),
  crm_id: z.string().nullable().meta({ description: "HubSpot's contact id, once synced." }),
  sync_status: syncStatus.schema,
  last_synced_at: dateTime('When HubSpot last took the user.').nullable(),
  last_error: z.string().nullable().meta({ description: 'Why the last sync failed, when it did.' }),
  lifecycle_stage: z
    .string()
    .nullable()
    .meta({ description: readOnly("The contact's HubSpot lifecycle stage.") }),
  name: z
    .string()
    .nullable()
    .meta({ description: readOnly('As HubSpot has it.') }),
  email: z
    .string()
    .nullable()
    .meta({ description: readOnly('As HubSpot has it.') }),
  listing_count: z
    .number()
    .nullable()
    .meta({ description: readOnly("The user's listings, as HubSpot has it.") }),
  total_spent: z
    .number()
    .nullable()
    .meta({ description: readOnly('Paid so far, in minor units, as HubSpot has it.') }),
  currency: z.string().nullable(),
});

const shape = (c: Contact): z.input<typeof contact> => {
  const p = Object.fromEntries((c.properties ?? []).map((x) => [x.name, x.value]));
  return {
    user_id: c.userId,
    crm_id: c.hubspotId,
    sync_status: syncStatus.rest(c.syncStatus),
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
const userId = requiredText('The user (yourself, unless you are an admin or an API key with the scope).');

const addUser = restOperation({
  method: 'POST',
  summary: 'Sync a user to HubSpot now',
  description:
    "Sends the user's name, email and listing count to HubSpot and answers the contact. The seed's name, email and listing_count may be sent but are not used: " +
    'HubSpot always gets the values their owners hold.',
  permission: 'crm.sync',
  request: z.object({
    user_id: userId,
    name: z.string().optional().meta({ description: 'Ignored (the user record is the truth).' }),
    email: z.string().optional().meta({ description: 'Ignored.' }),
    listing_count: z.number().optional().meta({ description: 'Ignored.' }),
  }),
  response: contact,
  errors: ['FORBIDDEN', 'NOT_FOUND', 'PROVIDER_UNAVAILABLE'],
  document: SYNC,
  variables: (body) => ({ userId: body.user_id }),
  respond: (data: { syncUserToCrm: Contact }) => shape(data.syncUserToCrm),
  renames: { userId: 'user_id' },
});

const userData = restOperation({
  method: 'GET',
  summary: "Read a user's HubSpot contact",
  description: 'What HubSpot holds for the user, and where the sync is.',
  permission: 'crm.contact.read',
  request: z.object({ user_id: userId }),
  response: contact,
  errors: ['FORBIDDEN'],
  document: READ,
  variables: (query) => ({ userId: query.user_id }),
  respond: (data: { crmContact: Contact | null }) => (data.crmContact ? shape(data.crmContact) : null),
  subject: 'user',
  renames: { userId: 'user_id' },
});

export const crmRest: Record<string, RestOperation> = {
  '/crm/add-user': addUser,
  '/crm/user-data': userData,
};
