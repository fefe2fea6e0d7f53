import { invalidInteger, invalidRequest, parameterMissing, unknownParameter } from './errors';
import { FormError, listParam, type FormObject, type FormValue } from './form';

/** Stripe refuses parameters it does not know, which catches typos in our adapter. */
export function rejectUnknown(params: FormObject, known: readonly string[]): void {
  for (const key of Object.keys(params)) if (!known.includes(key)) throw unknownParameter(key);
}

function describe(value: FormValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function optionalString(params: FormObject, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${describe(value)}`, { param: name });
  return value;
}

/** Empty strings mean "unset" in Stripe's form encoding. */
export function optionalNonEmpty(params: FormObject, name: string): string | undefined {
  const value = optionalString(params, name);
  return value === '' ? undefined : value;
}

export function requiredString(params: FormObject, name: string): string {
  const value = optionalNonEmpty(params, name);
  if (value === undefined) throw parameterMissing(name);
  return value;
}

export function optionalInteger(params: FormObject, name: string, min: number): number | undefined {
  const raw = optionalNonEmpty(params, name);
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw)) throw invalidInteger(name, raw);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw invalidInteger(name, raw);
  if (value < min) {
    throw invalidRequest(`This value must be greater than or equal to ${min}.`, {
      param: name,
      code: 'parameter_invalid_integer',
    });
  }
  return value;
}

export function optionalBoolean(params: FormObject, name: string): boolean | undefined {
  const raw = optionalNonEmpty(params, name);
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw invalidRequest(`Invalid boolean: ${raw}`, { param: name });
}

export function optionalEnum<T extends string>(params: FormObject, name: string, values: readonly T[]): T | undefined {
  const raw = optionalNonEmpty(params, name);
  if (raw === undefined) return undefined;
  if (!(values as readonly string[]).includes(raw)) {
    throw invalidRequest(`Invalid ${name}: must be one of ${values.join(', ')}`, { param: name });
  }
  return raw as T;
}

export function optionalObject(params: FormObject, name: string): FormObject | undefined {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`Invalid object`, { param: name });
  return value;
}

export function optionalList(params: FormObject, name: string): string[] | undefined {
  if (params[name] === undefined) return undefined;
  try {
    return listParam(params[name], name);
  } catch (err) {
    if (err instanceof FormError) throw invalidRequest(err.message, { param: name });
    throw err;
  }
}

/** Stripe's limits: 50 keys, keys up to 40 characters, values up to 500; an empty value removes the key. */
export function metadataParam(params: FormObject, existing: Record<string, string> = {}): Record<string, string> {
  const value = params.metadata;
  if (value === undefined) return { ...existing };
  if (value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest('Invalid object', { param: 'metadata' });
  const result = { ...existing };
  for (const [key, item] of Object.entries(value)) {
    const param = `metadata[${key}]`;
    if (typeof item !== 'string') throw invalidRequest(`Invalid string: ${describe(item)}`, { param });
    if (key.length > 40)
      throw invalidRequest(`Metadata keys can be up to 40 characters long; '${key}' is ${key.length}.`, { param });
    if (item.length > 500) throw invalidRequest(`Metadata values can be up to 500 characters long.`, { param });
    if (item === '') delete result[key];
    else result[key] = item;
  }
  if (Object.keys(result).length > 50) throw invalidRequest('Metadata can have up to 50 keys.', { param: 'metadata' });
  return result;
}

/** `expand[]`: only the listed fields can be expanded. */
export function expandParam(params: FormObject, expandable: readonly string[]): string[] {
  const fields = optionalList(params, 'expand') ?? [];
  for (const field of fields) {
    if (!expandable.includes(field))
      throw invalidRequest(`This property cannot be expanded (${field}).`, { param: 'expand' });
  }
  return fields;
}

export interface ListOptions {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
}

export function listOptions(params: FormObject): ListOptions {
  const limit = optionalInteger(params, 'limit', 1) ?? 10;
  if (limit > 100)
    throw invalidRequest('This value must be less than or equal to 100.', {
      param: 'limit',
      code: 'parameter_invalid_integer',
    });
  return {
    limit,
    startingAfter: optionalNonEmpty(params, 'starting_after'),
    endingBefore: optionalNonEmpty(params, 'ending_before'),
  };
}

/** Pages through `items` (newest first) the way Stripe's cursors do. */
export function paginate<T extends { id: string }>(
  items: T[],
  options: ListOptions,
  url: string,
  kind: string,
): { object: 'list'; data: T[]; has_more: boolean; url: string } {
  let start = 0;
  let end = items.length;
  if (options.startingAfter) {
    const index = items.findIndex((item) => item.id === options.startingAfter);
    if (index < 0)
      throw invalidRequest(`No such ${kind}: '${options.startingAfter}'`, {
        param: 'starting_after',
        code: 'resource_missing',
      });
    start = index + 1;
  } else if (options.endingBefore) {
    const index = items.findIndex((item) => item.id === options.endingBefore);
    if (index < 0)
      throw invalidRequest(`No such ${kind}: '${options.endingBefore}'`, {
        param: 'ending_before',
        code: 'resource_missing',
      });
    end = index;
    start = Math.max(0, end - options.limit);
  }
  const data = items.slice(start, Math.min(end, start + options.limit));
  const hasMore = options.endingBefore ? start > 0 : start + options.limit < end;
  return { object: 'list', data, has_more: hasMore, url };
}
