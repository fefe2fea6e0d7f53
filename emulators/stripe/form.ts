/**
 * Stripe's v1 wire format: `application/x-www-form-urlencoded` with bracketed keys
 * (`metadata[listing_id]=7`, `expand[0]=latest_charge`, `expand[]=latest_charge`).
 */
export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

export class FormError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/** `a[b][c]` → ['a', 'b', 'c']; `a[]` → ['a', '']. Unbalanced brackets keep the key literal, as Rack does. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const rest = key.slice(open);
  const re = /\[([^\]]*)\]/y;
  let consumed = 0;
  for (let match = re.exec(rest); match; match = re.exec(rest)) {
    parts.push(match[1]);
    consumed = re.lastIndex;
  }
  return consumed === rest.length ? parts : [key];
}

const isObject = (value: FormValue | undefined): value is FormObject =>
  value !== undefined && typeof value === 'object' && !Array.isArray(value);

function assign(target: FormObject | FormValue[], path: string[], value: string, fullKey: string): void {
  if (Array.isArray(target)) {
    // `[]` appends; a nested `a[][b]` starts a new element (we never need more than that).
    if (path.length === 0) {
      target.push(value);
      return;
    }
    const element: FormObject = {};
    target.push(element);
    assign(element, path, value, fullKey);
    return;
  }
  const [head, ...tail] = path;
  const conflict = () => new FormError(`Invalid hash: conflicting values for ${fullKey}`, fullKey);
  if (tail.length === 0) {
    if (target[head] !== undefined && typeof target[head] !== 'string') throw conflict();
    target[head] = value;
    return;
  }
  const existing = target[head];
  if (tail[0] === '') {
    if (existing === undefined) target[head] = [];
    else if (!Array.isArray(existing)) throw conflict();
    assign(target[head] as FormValue[], tail.slice(1), value, fullKey);
    return;
  }
  if (existing === undefined) target[head] = {};
  else if (!isObject(existing)) throw conflict();
  assign(target[head] as FormObject, tail, value, fullKey);
}

export function parseForm(raw: string | URLSearchParams): FormObject {
  const params = typeof raw === 'string' ? new URLSearchParams(raw) : raw;
  const result: FormObject = {};
  for (const [key, value] of params) {
    if (key === '') continue;
    assign(result, splitKey(key), value, key);
  }
  return result;
}

/** A list parameter arrives as `x[0]=…&x[1]=…` (an object with index keys) or `x[]=…` (an array). */
export function listParam(value: FormValue | undefined, param: string): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') {
    if (value === '') return [];
    throw new FormError(`Invalid array`, param);
  }
  const items = Array.isArray(value)
    ? value
    : Object.keys(value)
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => value[k]);
  return items.map((item) => {
    if (typeof item !== 'string') throw new FormError(`Invalid array`, param);
    return item;
  });
}

/** Key-order independent JSON, to compare the parameters of two requests. */
export function canonical(value: FormValue | undefined): string {
  if (value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
    .join(',')}}`;
}
