import { observedLoader } from '../../lib/loaders';
import { SYSTEM_VIEWER, type EntityClient } from '../../lib/entity-client';
import type { BaseContext } from '../../lib/subgraph';
import type { PreferencesRow, SuppressionReason } from './db/schema';
import type { EmailService } from './domain/email.service';

export interface EmailContextDeps {
  email: EmailService;
  listings: EntityClient;
}

/** Fresh loaders per request: a page of users' preferences is one query, their addresses one call to listings. */
export function createLoaders(deps: EmailContextDeps) {
  return {
    preferences: observedLoader<string, PreferencesRow>('email', 'preferences', async (userIds) => {
      const found = await deps.email.preferencesOf(deps.email.db, userIds);
      return userIds.map((id) => found.get(id) ?? deps.email.defaults(id));
    }),
    /** The user's current address, from its owner. */
    address: observedLoader<string, string | null>('email', 'address', async (userIds) => {
      const people = await deps.listings<{ id: string; email: string | null }>(
        'User',
        userIds,
        'id email',
        SYSTEM_VIEWER,
      );
      return userIds.map((_, i) => people[i]?.email ?? null);
    }),
    suppression: observedLoader<string, { reason: SuppressionReason; createdAt: Date } | null>(
      'email',
      'suppression',
      async (emails) => {
        const found = await deps.email.suppressionsOf(deps.email.db, emails);
        return emails.map((e) => found.get(e) ?? null);
      },
    ),
  };
}

export type EmailContext = BaseContext & EmailContextDeps & { loaders: ReturnType<typeof createLoaders> };

export function createContext(deps: EmailContextDeps) {
  return (base: BaseContext): EmailContext => ({ ...base, ...deps, loaders: createLoaders(deps) });
}
