import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { ReadableBy } from '../../../lib/permissions';

export enum CrmSyncStatus {
  SYNCED = 'SYNCED',
  PENDING = 'PENDING',
  FAILED = 'FAILED',
  NEVER = 'NEVER',
}
registerEnumType(CrmSyncStatus, {
  name: 'CrmSyncStatus',
  description: 'Whether HubSpot has our latest data for the user.',
  valuesConfig: {
    SYNCED: { description: 'HubSpot has the data as of lastSyncedAt.' },
    PENDING: { description: 'A change is waiting to be sent (retried with backoff after failures).' },
    FAILED: { description: 'Sending failed repeatedly or cannot succeed (see lastError); an admin can sync again.' },
    NEVER: { description: 'Never sent to the CRM.' },
  },
});

@ObjectType({ description: 'One CRM contact property and its value.' })
export class CrmProperty {
  @Field({ description: 'HubSpot property name, e.g. saypro_listing_count.' })
  name: string;

  @Field(() => String, { nullable: true, description: 'Its value as HubSpot stores it.' })
  value: string | null;
}

/** What the CRM holds about the user is for readers of their contact (crm.contact.read), in every payload. */
const contactReader = () => ReadableBy<CrmContact>('crm.contact.read', (contact) => contact.userId);

@ObjectType({
  description:
    "The user's contact in the CRM (HubSpot) and how our sync of it stands. Its sync state is visible to whoever may sync it; what HubSpot holds (hubspotId, lifecycleStage, properties, lastError) only to readers of the contact (null for others).",
})
export class CrmContact {
  @Field(() => ID, { description: 'The SayPro user id.' })
  userId: string;

  @contactReader()
  @Field(() => String, { nullable: true, description: "HubSpot's contact id; null until first synced." })
  hubspotId: string | null;

  @Field(() => CrmSyncStatus, { description: 'Sync state.' })
  syncStatus: CrmSyncStatus;

  @Field(() => Date, { nullable: true, description: 'When HubSpot last accepted our data.' })
  lastSyncedAt: Date | null;

  @contactReader()
  @Field(() => String, { nullable: true, description: 'Why the last attempt failed, when it did.' })
  lastError: string | null;

  // lifecycleStage and properties are HubSpot's own view, read only when asked for
  // (CrmContactRemoteResolver): a page that shows our sync state makes no HubSpot call.
}
