import { observedLoader } from '../../lib/loaders';
import type { BaseContext } from '../../lib/subgraph';
import type { IndexNowUrlRow, PageRow } from './db/schema';
import type { IndexNowSender } from './domain/indexnow-sender';
import type { SeoService } from './domain/seo.service';

export interface SeoContextDeps {
  seo: SeoService;
  indexNow: IndexNowSender;
}

/** Fresh loaders per request: a page of listings' structured data (or IndexNow state) is one query. */
export function createLoaders(deps: SeoContextDeps) {
  return {
    page: observedLoader<string, PageRow | null>('seo', 'page', (ids) => deps.seo.byListingIds(ids)),
    submission: observedLoader<string, IndexNowUrlRow | null>('seo', 'submission', (ids) =>
      deps.indexNow.byListingIds(ids),
    ),
  };
}

export type SeoContext = BaseContext & SeoContextDeps & { loaders: ReturnType<typeof createLoaders> };

export function createContext(deps: SeoContextDeps) {
  return (base: BaseContext): SeoContext => ({ ...base, ...deps, loaders: createLoaders(deps) });
}
