import type { Config } from '../lib/config';

/** The subgraphs the gateway routes to, by the names in the supergraph, with their configured URLs. */
export function subgraphUrlsFromConfig(config: Config): Record<string, string> {
  return { listings: config.LISTINGS_URL, payments: config.PAYMENTS_URL, crm: config.CRM_URL, email: config.EMAIL_URL };
}
