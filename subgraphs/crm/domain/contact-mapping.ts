/**
 * Our user fields ↔ HubSpot contact properties: the one place this mapping is written down (the
 * docs/operations.md's table under "HubSpot" is checked against it). Custom properties are created by the adapter when missing.
 */
export interface ContactFacts {
  userId: string;
  name: string;
  email: string;
  /** Listings the user has (all statuses). */
  listingCount: number;
  /** Net payments in minor units of `currency`. */
  totalSpent: number;
  currency: string;
}

export interface PropertyMapping {
  /** Our field, as documented. */
  field: keyof ContactFacts | 'name (first word)' | 'name (rest)';
  /** The HubSpot contact property. */
  property: string;
  /** Set for properties we create in HubSpot (group `contactinformation`). */
  custom?: { label: string; type: 'string' | 'number'; fieldType: 'text' | 'number'; unique?: boolean };
}

export const CONTACT_PROPERTIES: readonly PropertyMapping[] = [
  { field: 'email', property: 'email' },
  { field: 'name (first word)', property: 'firstname' },
  { field: 'name (rest)', property: 'lastname' },
  // Unique: contacts are upserted by it, so one user is one contact and an address is never adopted.
  {
    field: 'userId',
    property: 'saypro_user_id',
    custom: { label: 'SayPro user id', type: 'string', fieldType: 'text', unique: true },
  },
  {
    field: 'listingCount',
    property: 'saypro_listing_count',
    custom: { label: 'SayPro listings', type: 'number', fieldType: 'number' },
  },
  {
    field: 'totalSpent',
    property: 'saypro_total_spent',
    custom: { label: 'SayPro total spent (minor units)', type: 'number', fieldType: 'number' },
  },
  {
    field: 'currency',
    property: 'saypro_currency',
    custom: { label: 'SayPro spend currency', type: 'string', fieldType: 'text' },
  },
];

/** The contact properties for a user, ready for a HubSpot upsert by `saypro_user_id`. */
export function toContactProperties(facts: ContactFacts): Record<string, string> {
  const [first, ...rest] = facts.name.trim().split(/\s+/);
  return {
    email: facts.email,
    firstname: first ?? '',
    lastname: rest.join(' '),
    saypro_user_id: facts.userId,
    saypro_listing_count: String(facts.listingCount),
    saypro_total_spent: String(facts.totalSpent),
    saypro_currency: facts.currency,
  };
}

/** Every property we read back from HubSpot. */
export const READ_PROPERTIES = [...CONTACT_PROPERTIES.map((p) => p.property), 'lifecyclestage'];
