import { validationError } from './errors';
import type { Reply, SearchableContact } from './contacts';
import type { PropertyDefinition, PropertyStore } from './properties';

/** HubSpot's search limits: page size, filter groups (ORed), filters per group (ANDed), filters in all. */
export const SEARCH_MAX_LIMIT = 200;
const MAX_GROUPS = 5;
const MAX_FILTERS_PER_GROUP = 6;
const MAX_FILTERS = 18;
const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;
type Operator = (typeof OPERATORS)[number];
/** What a free-text `query` looks in, as HubSpot's default searchable contact properties. */
const QUERY_PROPERTIES = ['email', 'firstname', 'lastname', 'phone', 'company'];

interface Filter {
  def: PropertyDefinition;
  operator: Operator;
  value?: string;
  highValue?: string;
  values: string[];
}

interface Sort {
  def: PropertyDefinition;
  descending: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalar(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

function parseFilter(raw: unknown, props: PropertyStore): Filter {
  if (!isRecord(raw)) throw validationError('Each filter must be an object with propertyName and operator');
  const name = raw.propertyName;
  if (typeof name !== 'string' || !props.has(name)) {
    throw validationError(`Unable to search on property ${String(name)}: it does not exist`, {
      propertyName: [String(name)],
    });
  }
  const operator = raw.operator;
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator)) {
    throw validationError(`Unknown filter operator ${String(operator)}; expected one of ${OPERATORS.join(', ')}`);
  }
  const filter: Filter = {
    def: props.find(name)!,
    operator: operator as Operator,
    value: scalar(raw.value),
    highValue: scalar(raw.highValue),
    values: Array.isArray(raw.values) ? raw.values.map(scalar).filter((v): v is string => v !== undefined) : [],
  };
  const needsValue = !['IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY'].includes(filter.operator);
  if (needsValue && filter.value === undefined)
    throw validationError(`Filter ${filter.operator} on ${name} needs a value`);
  if (filter.operator === 'BETWEEN' && filter.highValue === undefined)
    throw validationError(`Filter BETWEEN on ${name} needs a highValue`);
  if ((filter.operator === 'IN' || filter.operator === 'NOT_IN') && filter.values.length === 0) {
    throw validationError(`Filter ${filter.operator} on ${name} needs values`);
  }
  return filter;
}

function parseGroups(raw: unknown, props: PropertyStore): Filter[][] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validationError('filterGroups must be an array');
  if (raw.length > MAX_GROUPS)
    throw validationError(`Too many filter groups: ${raw.length}; the limit is ${MAX_GROUPS}`);
  let total = 0;
  const groups = raw.map((group) => {
    const filters = isRecord(group) && Array.isArray(group.filters) ? group.filters : [];
    if (filters.length > MAX_FILTERS_PER_GROUP)
      throw validationError(`Too many filters in a group: ${filters.length}; the limit is ${MAX_FILTERS_PER_GROUP}`);
    total += filters.length;
    return filters.map((f) => parseFilter(f, props));
  });
  if (total > MAX_FILTERS) throw validationError(`Too many filters: ${total}; the limit is ${MAX_FILTERS}`);
  return groups;
}

function parseSorts(raw: unknown, props: PropertyStore): Sort[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validationError('sorts must be an array');
  return raw.map((s) => {
    // The SDK types sorts as strings, the API documents objects: take both.
    const name = typeof s === 'string' ? s : isRecord(s) ? s.propertyName : undefined;
    if (typeof name !== 'string' || !props.has(name))
      throw validationError(`Unable to sort on property ${String(name)}: it does not exist`);
    return { def: props.find(name)!, descending: isRecord(s) && s.direction === 'DESCENDING' };
  });
}

function toMs(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

/** Orders two values as HubSpot would for the property's type; strings compare case-insensitively. */
function compare(a: string, b: string, def: PropertyDefinition): number {
  if (def.type === 'number') return Number(a) - Number(b);
  if (def.type === 'date' || def.type === 'datetime') return toMs(a) - toMs(b);
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function containsToken(value: string, pattern: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .toLowerCase()
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  const lower = value.toLowerCase();
  return regex.test(lower) || lower.split(/[^a-z0-9]+/).some((token) => regex.test(token));
}

function matches(values: Record<string, string>, f: Filter): boolean {
  const v = values[f.def.name];
  const value = f.value ?? '';
  switch (f.operator) {
    case 'HAS_PROPERTY':
      return v !== undefined;
    case 'NOT_HAS_PROPERTY':
      return v === undefined;
    case 'EQ':
      return v !== undefined && compare(v, value, f.def) === 0;
    case 'NEQ':
      return v === undefined || compare(v, value, f.def) !== 0;
    case 'LT':
      return v !== undefined && compare(v, value, f.def) < 0;
    case 'LTE':
      return v !== undefined && compare(v, value, f.def) <= 0;
    case 'GT':
      return v !== undefined && compare(v, value, f.def) > 0;
    case 'GTE':
      return v !== undefined && compare(v, value, f.def) >= 0;
    case 'BETWEEN':
      return v !== undefined && compare(v, value, f.def) >= 0 && compare(v, f.highValue ?? '', f.def) <= 0;
    case 'IN':
      return v !== undefined && f.values.some((x) => compare(v, x, f.def) === 0);
    case 'NOT_IN':
      return v === undefined || !f.values.some((x) => compare(v, x, f.def) === 0);
    case 'CONTAINS_TOKEN':
      return v !== undefined && containsToken(v, value);
    case 'NOT_CONTAINS_TOKEN':
      return v === undefined || !containsToken(v, value);
  }
}

/**
 * Runs a search over what the index can see (older versions while the lag lasts). Filter groups are
 * ORed, filters in a group ANDed; `after` is an offset, as HubSpot's search cursor is.
 */
export function searchContacts(
  contacts: SearchableContact[],
  body: unknown,
  props: PropertyStore,
  select: (values: Record<string, string>, requested: string[] | undefined) => Record<string, string | null>,
): Reply {
  const request = body === undefined ? {} : body;
  if (!isRecord(request)) throw validationError('Invalid input JSON: expected a search request object');
  const groups = parseGroups(request.filterGroups, props);
  const sorts = parseSorts(request.sorts, props);
  const limit = request.limit === undefined ? 10 : Number(request.limit);
  if (!Number.isInteger(limit) || limit < 0 || limit > SEARCH_MAX_LIMIT) {
    throw validationError(`limit must be an integer from 0 to ${SEARCH_MAX_LIMIT}; got ${String(request.limit)}`);
  }
  const offset =
    request.after === undefined || request.after === null || request.after === '' ? 0 : Number(request.after);
  if (!Number.isInteger(offset) || offset < 0)
    throw validationError(`after must be a paging cursor from a previous page; got ${String(request.after)}`);
  if (request.properties !== undefined && !Array.isArray(request.properties))
    throw validationError('properties must be an array of property names');
  const requested = Array.isArray(request.properties)
    ? request.properties.filter((p): p is string => typeof p === 'string')
    : undefined;
  const query = typeof request.query === 'string' ? request.query.trim().toLowerCase() : '';

  const matched = contacts.filter(
    (c) =>
      (groups.length === 0 || groups.some((group) => group.every((f) => matches(c.properties, f)))) &&
      (query === '' || QUERY_PROPERTIES.some((p) => c.properties[p]?.toLowerCase().includes(query))),
  );
  matched.sort((a, b) => {
    for (const s of sorts) {
      const x = a.properties[s.def.name];
      const y = b.properties[s.def.name];
      if (x === undefined || y === undefined) {
        if (x !== y) return x === undefined ? 1 : -1; // unset values last
        continue;
      }
      const order = compare(x, y, s.def);
      if (order !== 0) return s.descending ? -order : order;
    }
    return Number(a.id) - Number(b.id);
  });

  const page = matched.slice(offset, offset + limit);
  const result: Record<string, unknown> = {
    total: matched.length,
    results: page.map((c) => ({
      id: c.id,
      properties: select(c.properties, requested),
      createdAt: new Date(c.createdAt).toISOString(),
      updatedAt: new Date(c.updatedAt).toISOString(),
      archived: false,
    })),
  };
  if (limit > 0 && offset + limit < matched.length) result.paging = { next: { after: String(offset + limit) } };
  return { status: 200, body: result };
}
