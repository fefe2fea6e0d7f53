import { crmRest } from './crm.rest';
import { paymentsRest } from './payments.rest';
import type { RestOperation } from './rest-route';

/** Every seed REST endpoint the gateway serves, by path. Email endpoints join here. */
export const REST_OPERATIONS: Record<string, RestOperation> = { ...paymentsRest, ...crmRest };
