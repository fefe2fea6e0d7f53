import { invalidRequest, resourceMissing } from './errors';
import type { FormObject } from './form';
import { newId, nowSeconds } from './ids';
import { expandParam, listOptions, optionalList, optionalNonEmpty, paginate, rejectUnknown } from './params';
import type { ApiContext, ApiResult, EventObject, RequestInfo, StripeEvent, StripeStore } from './types';

export interface NewEvent {
  type: string;
  object: EventObject;
  previousAttributes?: Record<string, unknown>;
  request: RequestInfo;
  /** How many webhook endpoints still have to receive it. */
  pendingWebhooks: number;
}

/** Stores an event whose `data.object` is a snapshot: later changes to the object do not show in it. */
export function recordEvent(store: StripeStore, input: NewEvent): StripeEvent {
  const event: StripeEvent = {
    id: newId('evt'),
    object: 'event',
    api_version: input.request.apiVersion,
    created: nowSeconds(),
    data: {
      object: structuredClone(input.object),
      ...(input.previousAttributes ? { previous_attributes: input.previousAttributes } : {}),
    },
    livemode: false,
    pending_webhooks: input.pendingWebhooks,
    request: { id: input.request.id, idempotency_key: input.request.idempotencyKey },
    type: input.type,
  };
  store.events.push(event);
  return event;
}

export function retrieveEvent(ctx: ApiContext, id: string, query: FormObject): ApiResult {
  rejectUnknown(query, ['expand']);
  expandParam(query, []);
  const event = ctx.store.events.find((candidate) => candidate.id === id);
  if (!event) throw resourceMissing('event', id, 'id');
  return { status: 200, body: event };
}

/** `payment_intent.*` matches every PaymentIntent event, as in Stripe's filters. */
const matchesType = (pattern: string, type: string) =>
  pattern.endsWith('.*') ? type.startsWith(pattern.slice(0, -1)) : pattern === type;

export function listEvents(ctx: ApiContext, query: FormObject): ApiResult {
  rejectUnknown(query, [
    'created',
    'delivery_success',
    'ending_before',
    'expand',
    'limit',
    'starting_after',
    'type',
    'types',
  ]);
  expandParam(query, []);
  const type = optionalNonEmpty(query, 'type');
  const types = optionalList(query, 'types');
  if (type && types)
    throw invalidRequest('You may only specify one of these parameters: type, types.', { param: 'types' });
  const patterns = types ?? (type ? [type] : undefined);
  const newestFirst = [...ctx.store.events]
    .reverse()
    .filter((event) => !patterns || patterns.some((pattern) => matchesType(pattern, event.type)));
  return { status: 200, body: paginate(newestFirst, listOptions(query), '/v1/events', 'event') };
}
