import { paymentsRest } from './payments.rest';
import type { RestOperation } from './rest-route';

/** Every seed REST endpoint the gateway serves, by path. Email and CRM endpoints join here. */
export const REST_OPERATIONS: Record<string, RestOperation> = { ...paymentsRest };
