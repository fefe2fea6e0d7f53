import { observedLoader } from '../../lib/loaders';
import type { BaseContext } from '../../lib/subgraph';
import type { AnalyticsService, Consent } from './domain/analytics.service';

export interface AnalyticsContextDeps {
  analytics: AnalyticsService;
}

/** Fresh loaders per request: a page of users' consents is one query. */
export function createLoaders(deps: AnalyticsContextDeps) {
  return { consent: observedLoader<string, Consent>('analytics', 'consent', (ids) => deps.analytics.consentsOf(ids)) };
}

export type AnalyticsContext = BaseContext & AnalyticsContextDeps & { loaders: ReturnType<typeof createLoaders> };

export function createContext(deps: AnalyticsContextDeps) {
  return (base: BaseContext): AnalyticsContext => ({ ...base, ...deps, loaders: createLoaders(deps) });
}
