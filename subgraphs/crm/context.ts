import { observedLoader } from '../../lib/loaders';
import type { BaseContext } from '../../lib/subgraph';
import type { ContactRow } from './db/schema';
import type { CrmBulkSync } from './domain/bulk-sync.service';
import type { CrmService } from './domain/crm.service';
import type { CrmContact } from './provider/crm-gateway.port';

export interface CrmContextDeps {
  crm: CrmService;
  bulk: CrmBulkSync;
}

/** Fresh loaders per request: a page of 50 sellers' contacts is one query and one HubSpot batch read. */
export function createLoaders(deps: CrmContextDeps) {
  return {
    contact: observedLoader<string, ContactRow | null>('crm', 'contact', async (userIds) => {
      const rows = await deps.crm.byUserIds(userIds);
      const byId = new Map(rows.map((r) => [r.userId, r]));
      return userIds.map((id) => byId.get(id) ?? null);
    }),
    hubspot: observedLoader<string, CrmContact | null>('crm', 'hubspot', async (ids) => {
      const read = await deps.crm.readFromCrm(ids);
      return ids.map((id) => read.get(id) ?? null);
    }),
  };
}

export type CrmContext = BaseContext & CrmContextDeps & { loaders: ReturnType<typeof createLoaders> };

export function createContext(deps: CrmContextDeps) {
  return (base: BaseContext): CrmContext => ({ ...base, ...deps, loaders: createLoaders(deps) });
}
