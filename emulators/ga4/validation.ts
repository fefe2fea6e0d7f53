/**
 * The Measurement Protocol's rules, as GA4's validation server (`/debug/mp/collect`) applies them:
 * its validation codes, its field paths and its way of wording descriptions ("Event at index: [0]
 * has invalid name [_badEventName]. Names must start with an alphabetic character."). One function
 * serves both endpoints: `/debug/mp/collect` answers the messages, `/mp/collect` drops what they
 * name and still answers 2xx.
 */

/** GA4's ValidationCode values. */
export type ValidationCode =
  | 'VALUE_INVALID'
  | 'VALUE_REQUIRED'
  | 'NAME_INVALID'
  | 'NAME_RESERVED'
  | 'VALUE_OUT_OF_BOUNDS'
  | 'EXCEEDED_MAX_ENTITIES'
  | 'NAME_DUPLICATED';

export interface ValidationMessage {
  fieldPath: string;
  description: string;
  validationCode: ValidationCode;
}

export const LIMITS = {
  events: 25,
  params: 25,
  eventName: 40,
  paramName: 40,
  paramValue: 100,
  userProperties: 25,
  userPropertyName: 24,
  userPropertyValue: 36,
  requestBytes: 130 * 1024,
  pastMicros: 72 * 3600 * 1_000_000,
} as const;

/** Event names GA4 keeps for itself (Measurement Protocol reference, "Reserved names"). */
export const RESERVED_EVENT_NAMES = new Set([
  'ad_activeview',
  'ad_click',
  'ad_exposure',
  'ad_impression',
  'ad_query',
  'ad_reward',
  'adunit_exposure',
  'app_background',
  'app_clear_data',
  'app_exception',
  'app_install',
  'app_remove',
  'app_store_refund',
  'app_store_subscription_cancel',
  'app_store_subscription_convert',
  'app_store_subscription_renew',
  'app_update',
  'app_upgrade',
  'dynamic_link_app_open',
  'dynamic_link_app_update',
  'dynamic_link_first_open',
  'error',
  'first_open',
  'first_visit',
  'in_app_purchase',
  'notification_dismiss',
  'notification_foreground',
  'notification_open',
  'notification_receive',
  'os_update',
  'screen_view',
  'session_start',
  'user_engagement',
]);
/** Prefixes no event, parameter or user property name may start with. */
export const RESERVED_PREFIXES = ['_', 'firebase_', 'ga_', 'google_', 'gtag.'];
export const RESERVED_PARAM_NAMES = new Set(['firebase_conversion']);
export const RESERVED_USER_PROPERTY_NAMES = new Set([
  'first_open_time',
  'first_visit_time',
  'last_deep_link_referrer',
  'user_id',
  'first_open_after_install',
]);

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const CONSENT_VALUES = new Set(['GRANTED', 'DENIED']);

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** What is wrong with a name, in GA4's words; null when it is fine. */
function nameProblem(
  name: unknown,
  what: string,
  max: number,
  reserved: Set<string>,
): { description: string; code: ValidationCode } | null {
  if (typeof name !== 'string' || name.length === 0)
    return { description: `${what} must have a name.`, code: 'VALUE_REQUIRED' };
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix && prefix !== '_')
    return {
      description: `${what} has name [${name}] which uses a reserved prefix [${prefix}].`,
      code: 'NAME_RESERVED',
    };
  if (reserved.has(name))
    return { description: `${what} has name [${name}] which is reserved.`, code: 'NAME_RESERVED' };
  if (!/^[A-Za-z]/.test(name))
    return {
      description: `${what} has invalid name [${name}]. Names must start with an alphabetic character.`,
      code: 'NAME_INVALID',
    };
  if (!NAME.test(name))
    return {
      description: `${what} has invalid name [${name}]. Only alphanumeric characters and underscores are allowed.`,
      code: 'NAME_INVALID',
    };
  if (name.length > max)
    return {
      description: `${what} has name [${name}] which exceeds the max length of [${max}] characters.`,
      code: 'NAME_INVALID',
    };
  return null;
}

/** A parameter value GA4 keeps: a string of ≤ 100 characters, a number, a boolean (items: an array of objects). */
function valueProblem(value: unknown, max: number): string | null {
  if (typeof value === 'string') return value.length > max ? `exceeds the max length of [${max}] characters` : null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'is not a finite number';
  if (typeof value === 'boolean') return null;
  return 'is not a string, number or boolean';
}

export interface Validated {
  messages: ValidationMessage[];
  /** Problems that make GA4 drop the whole request (no client id, unreadable body). */
  requestDropped: boolean;
  /** Indexes of events GA4 would drop. */
  droppedEvents: Set<number>;
}

/**
 * Checks one request body (`raw`: the bytes as received) the way GA4 does. `nowMicros` decides
 * which timestamps are too old.
 */
export function validatePayload(raw: string, nowMicros = Date.now() * 1000): Validated {
  const messages: ValidationMessage[] = [];
  const droppedEvents = new Set<number>();
  const fail = (fieldPath: string, description: string, validationCode: ValidationCode) =>
    void messages.push({ fieldPath, description, validationCode });
  if (Buffer.byteLength(raw) > LIMITS.requestBytes) {
    fail('', `Measurement payload exceeds the max size of [${LIMITS.requestBytes}] bytes.`, 'VALUE_OUT_OF_BOUNDS');
    return { messages, requestDropped: true, droppedEvents };
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    fail('', 'Unable to parse Measurement Protocol JSON payload. Request body is not valid JSON.', 'VALUE_INVALID');
    return { messages, requestDropped: true, droppedEvents };
  }
  if (!isObject(body)) {
    fail('', 'Unable to parse Measurement Protocol JSON payload. Request body must be a JSON object.', 'VALUE_INVALID');
    return { messages, requestDropped: true, droppedEvents };
  }
  let requestDropped = false;
  if (body.client_id === undefined && body.app_instance_id === undefined) {
    fail('client_id', 'Measurement requires a client_id.', 'VALUE_REQUIRED');
    requestDropped = true;
  } else if (body.client_id !== undefined && (typeof body.client_id !== 'string' || body.client_id.length === 0)) {
    fail(
      'client_id',
      `Measurement has invalid client_id [${String(body.client_id)}]. It must be a non-empty string.`,
      'VALUE_INVALID',
    );
    requestDropped = true;
  }
  if (body.user_id !== undefined && (typeof body.user_id !== 'string' || body.user_id.length > 256)) {
    fail(
      'user_id',
      'Measurement has invalid user_id. It must be a string of at most [256] characters.',
      'VALUE_INVALID',
    );
    requestDropped = true;
  }
  if (body.timestamp_micros !== undefined) {
    const ts = Number(body.timestamp_micros);
    if (!Number.isFinite(ts)) fail('timestamp_micros', 'Measurement has invalid timestamp_micros.', 'VALUE_INVALID');
    else if (nowMicros - ts > LIMITS.pastMicros)
      fail(
        'timestamp_micros',
        'Measurement timestamp_micros is more than [72] hours in the past.',
        'VALUE_OUT_OF_BOUNDS',
      );
  }
  if (body.consent !== undefined) {
    if (!isObject(body.consent))
      fail('consent', 'Measurement has invalid consent. It must be an object.', 'VALUE_INVALID');
    else
      for (const [key, value] of Object.entries(body.consent))
        if (!['ad_user_data', 'ad_personalization'].includes(key) || !CONSENT_VALUES.has(String(value)))
          fail(
            `consent.${key}`,
            `Consent [${key}] has invalid value [${String(value)}]. Consent values must be GRANTED or DENIED.`,
            'VALUE_INVALID',
          );
  }
  checkUserProperties(body.user_properties, fail);

  const events = body.events;
  if (!Array.isArray(events) || events.length === 0) {
    fail('events', 'Measurement requires at least one event.', 'VALUE_REQUIRED');
    return { messages, requestDropped: true, droppedEvents };
  }
  if (events.length > LIMITS.events) {
    fail(
      'events',
      `Measurement has [${events.length}] events, which exceeds the max of [${LIMITS.events}].`,
      'EXCEEDED_MAX_ENTITIES',
    );
    return { messages, requestDropped: true, droppedEvents };
  }
  events.forEach((event: unknown, i) => {
    const before = messages.length;
    checkEvent(event, i, nowMicros, fail);
    if (messages.length > before) droppedEvents.add(i);
  });
  return { messages, requestDropped, droppedEvents };
}

type Fail = (fieldPath: string, description: string, code: ValidationCode) => void;

function checkUserProperties(properties: unknown, fail: Fail): void {
  if (properties === undefined) return;
  if (!isObject(properties))
    return fail('user_properties', 'Measurement has invalid user_properties. It must be an object.', 'VALUE_INVALID');
  const names = Object.keys(properties);
  if (names.length > LIMITS.userProperties)
    fail(
      'user_properties',
      `Measurement has [${names.length}] user properties, which exceeds the max of [${LIMITS.userProperties}].`,
      'EXCEEDED_MAX_ENTITIES',
    );
  for (const name of names) {
    const problem = nameProblem(name, 'User property', LIMITS.userPropertyName, RESERVED_USER_PROPERTY_NAMES);
    if (problem) fail('user_properties', problem.description, problem.code);
    const entry = properties[name];
    const value = isObject(entry) ? entry.value : undefined;
    const wrong = value === undefined ? 'has no value' : valueProblem(value, LIMITS.userPropertyValue);
    if (wrong)
      fail(
        `user_properties.${name}`,
        `User property [${name}] ${wrong}.`,
        wrong.startsWith('exceeds') ? 'VALUE_OUT_OF_BOUNDS' : 'VALUE_INVALID',
      );
  }
}

function checkEvent(event: unknown, i: number, nowMicros: number, fail: Fail): void {
  const at = `Event at index: [${i}]`;
  if (!isObject(event)) return fail('events', `${at} is not an object.`, 'VALUE_INVALID');
  const problem = nameProblem(event.name, at, LIMITS.eventName, RESERVED_EVENT_NAMES);
  if (problem) fail('events', problem.description, problem.code);
  if (event.timestamp_micros !== undefined) {
    const ts = Number(event.timestamp_micros);
    if (!Number.isFinite(ts))
      fail(`events[${i}].timestamp_micros`, `${at} has invalid timestamp_micros.`, 'VALUE_INVALID');
    else if (nowMicros - ts > LIMITS.pastMicros)
      fail(
        `events[${i}].timestamp_micros`,
        `${at} has timestamp_micros more than [72] hours in the past.`,
        'VALUE_OUT_OF_BOUNDS',
      );
  }
  if (event.params === undefined) return;
  if (!isObject(event.params))
    return fail(`events[${i}].params`, `${at} has params that are not an object.`, 'VALUE_INVALID');
  const names = Object.keys(event.params);
  if (names.length > LIMITS.params)
    fail(
      `events[${i}].params`,
      `${at} has [${names.length}] params, which exceeds the max of [${LIMITS.params}].`,
      'EXCEEDED_MAX_ENTITIES',
    );
  for (const name of names) {
    const paramProblem = nameProblem(name, `${at} param`, LIMITS.paramName, RESERVED_PARAM_NAMES);
    if (paramProblem) fail(`events[${i}].params`, paramProblem.description, paramProblem.code);
    const value = event.params[name];
    if (name === 'items') {
      checkItems(value, i, fail);
      continue;
    }
    const wrong = valueProblem(value, LIMITS.paramValue);
    if (wrong)
      fail(
        `events[${i}].params.${name}`,
        `${at} param [${name}] has a value that ${wrong}.`,
        wrong.startsWith('exceeds') ? 'VALUE_OUT_OF_BOUNDS' : 'VALUE_INVALID',
      );
  }
  if (event.params.value !== undefined && event.params.currency === undefined)
    fail(`events[${i}].params.currency`, `${at} has a value param but no currency param.`, 'VALUE_REQUIRED');
  if (typeof event.params.currency === 'string' && !/^[A-Z]{3}$/.test(event.params.currency))
    fail(
      `events[${i}].params.currency`,
      `${at} param [currency] has invalid value [${event.params.currency}]. It must be an ISO 4217 currency code.`,
      'VALUE_INVALID',
    );
}

function checkItems(items: unknown, i: number, fail: Fail): void {
  const path = `events[${i}].params.items`;
  if (!Array.isArray(items))
    return fail(path, `Event at index: [${i}] param [items] must be an array.`, 'VALUE_INVALID');
  items.forEach((item: unknown, j) => {
    if (!isObject(item)) return fail(`${path}[${j}]`, `Item at index: [${j}] is not an object.`, 'VALUE_INVALID');
    if (item.item_id === undefined && item.item_name === undefined)
      fail(`${path}[${j}]`, `Item at index: [${j}] must have either item_id or item_name.`, 'VALUE_REQUIRED');
    for (const [name, value] of Object.entries(item)) {
      const wrong = valueProblem(value, LIMITS.paramValue);
      if (wrong)
        fail(
          `${path}[${j}].${name}`,
          `Item at index: [${j}] param [${name}] has a value that ${wrong}.`,
          wrong.startsWith('exceeds') ? 'VALUE_OUT_OF_BOUNDS' : 'VALUE_INVALID',
        );
    }
  });
}
