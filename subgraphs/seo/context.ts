import { observedLoader } from '../../lib/loaders';
import type { BaseContext } from '../../lib/subgraph';
import type { PageRow } from './db/schema';
import type { SeoService } from './domain/seo.service';

export interface SeoContextDeps {
  seo: SeoService;
}

/** Fresh loaders per request: a page of listings' structured data is one query. */
export function createLoaders(deps: SeoContextDeps) {
  return { page: observedLoader<string, PageRow | null>('seo', 'page', (ids) => deps.seo.byListingIds(ids)) };
}

export type SeoContext = BaseContext & SeoContextDeps & { loaders: ReturnType<typeof createLoaders> };

export function createContext(deps: SeoContextDeps) {
  return (base: BaseContext): SeoContext => ({ ...base, ...deps, loaders: createLoaders(deps) });
}
