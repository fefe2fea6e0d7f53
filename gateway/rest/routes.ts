import { crmRest } from './crm.rest';
import { emailRest } from './email.rest';
import { paymentsRest } from './payments.rest';
import type { RestOperation } from './rest-route';

/** Every seed REST endpoint the gateway serves, by path. */
export const REST_OPERATIONS: Record<string, RestOperation> = { ...paymentsRest, ...emailRest, ...crmRest };
