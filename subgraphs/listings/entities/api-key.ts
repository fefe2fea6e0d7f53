import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { ApiKeyScope as ScopeName } from '../../../lib/auth';
import type { ApiKeyRow } from '../db/schema';

/** The scopes as GraphQL enum values (`users:read` is USERS_READ). */
export enum ApiKeyScope {
  USERS_READ = 'users:read',
  PAYMENTS_READ = 'payments:read',
  CRM_READ = 'crm:read',
  CRM_WRITE = 'crm:write',
  EMAIL_READ = 'email:read',
  EMAIL_SEND = 'email:send',
}
registerEnumType(ApiKeyScope, {
  name: 'ApiKeyScope',
  description: 'What an API key may do. A key is never a user and never an admin: it may only do what its scopes open.',
  valuesConfig: {
    USERS_READ: { description: "Read any user's email address, and list every user." },
    PAYMENTS_READ: { description: "Read any transaction, a listing's payment and a user's payments and totals." },
    CRM_READ: { description: "Read any user's CRM contact, the failed CRM syncs and bulk sync jobs." },
    CRM_WRITE: {
      description: 'Send a user to the CRM now (POST /crm/add-user), retry failed syncs and start a bulk sync.',
    },
    EMAIL_READ: {
      description:
        "Read campaigns and their stats (GET /email/campaign-status), and any user's email preferences and sent mail.",
    },
    EMAIL_SEND: { description: 'Send transactional mail (POST /email/send), and create and send campaigns.' },
  },
});

@ObjectType({
  description:
    'An API key for a server-to-server client. Its secret is shown once, when it is created, and never stored.',
})
export class ApiKey {
  @Field(() => ID, { description: 'Stable id (UUID); revoke the key with it.' })
  id: string;

  @Field({ description: 'What the key is for, e.g. "back office".' })
  name: string;

  @Field({ description: 'The first characters of the key (sp_live_… or sp_test_…), to tell keys apart.' })
  prefix: string;

  @Field(() => [ApiKeyScope], { description: 'What the key may do.' })
  scopes: ApiKeyScope[];

  @Field({ description: 'When it was created.' })
  createdAt: Date;

  @Field(() => Date, {
    nullable: true,
    description:
      'When it was revoked; null while it works. The gateway may accept it for up to API_KEY_CACHE_SECONDS after.',
  })
  revokedAt: Date | null;
}

@ObjectType({ description: 'A new API key and its secret. Store the secret now: it is not shown again.' })
export class CreatedApiKey {
  @Field(() => ApiKey, { description: 'The key.' })
  apiKey: ApiKey;

  @Field({ description: 'The key itself, for `Authorization: ApiKey <secret>` or `X-API-Key: <secret>`. Shown once.' })
  secret: string;
}

export const toApiKey = (row: ApiKeyRow): ApiKey => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  scopes: row.scopes as ScopeName[] as ApiKeyScope[],
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
});
