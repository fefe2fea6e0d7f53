import {
  contactExists,
  invalidPropertyValues,
  objectNotFound,
  validationError,
  type PropertyValueError,
} from './errors';
import { ALWAYS_RETURNED, DEFAULT_RETURNED, type PropertyStore } from './properties';

/** A contact as the emulator's inspection API shows it. */
export interface Contact {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: false;
}

/** What a handler answers; the server adds headers and records the request. */
export interface Reply {
  status: number;
  body?: unknown;
}

/** A contact as search sees it: possibly an older version (search lags behind writes). */
export interface SearchableContact {
  id: string;
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

interface Snapshot extends SearchableContact {
  visibleAt: number;
}

interface ContactRecord {
  id: string;
  /** Current values; a cleared property is absent. Includes hs_object_id, createdate, lastmodifieddate. */
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  /** Versions search will show, oldest first, each from its `visibleAt`. */
  snapshots: Snapshot[];
}

/** HubSpot's batch endpoints take at most this many inputs. */
export const MAX_BATCH_INPUTS = 100;
/** Ids look like HubSpot's: numeric strings, increasing. */
const FIRST_ID = 1001;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sortedObject<T>(entries: Array<[string, T]>): Record<string, T> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function stringList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw validationError('properties must be an array of property names');
  return value.filter((v): v is string => typeof v === 'string');
}

function batchInputs(body: unknown): unknown[] {
  if (!isRecord(body) || !Array.isArray(body.inputs))
    throw validationError('Invalid input JSON: expected an object with an inputs array');
  if (body.inputs.length > MAX_BATCH_INPUTS) {
    throw validationError(
      `Batch input limit exceeded: got ${body.inputs.length} inputs; the limit is ${MAX_BATCH_INPUTS}.`,
    );
  }
  return body.inputs;
}

function batchBody(startedAt: Date, results: unknown[], errors: unknown[]): Record<string, unknown> {
  return {
    status: 'COMPLETE',
    results,
    ...(errors.length > 0 ? { numErrors: errors.length, errors } : {}),
    startedAt: startedAt.toISOString(),
    completedAt: new Date().toISOString(),
  };
}

/** One failed input of a batch, as HubSpot lists it under `errors` (context names the input's id). */
function batchError(category: string, message: string, id: string, details?: unknown[]): Record<string, unknown> {
  return { status: 'error', category, message, context: { ids: [id] }, ...(details ? { errors: details } : {}) };
}

/** The store as a state file keeps it: current versions only (search sees them at once after a restart). */
export interface SavedContacts {
  nextId: number;
  contacts: Array<{ id: string; properties: Record<string, string>; createdAt: number; updatedAt: number }>;
}

export interface ContactStoreOptions {
  properties: PropertyStore;
  /** How long a write takes to reach search, ms. */
  searchLagMs: number;
}

export class ContactStore {
  private readonly byId = new Map<string, ContactRecord>();
  private readonly idByEmail = new Map<string, string>();
  private nextId = FIRST_ID;
  private readonly props: PropertyStore;
  private readonly searchLagMs: number;

  constructor(options: ContactStoreOptions) {
    this.props = options.properties;
    this.searchLagMs = options.searchLagMs;
  }

  reset(): void {
    this.byId.clear();
    this.idByEmail.clear();
    this.nextId = FIRST_ID;
  }

  saved(): SavedContacts {
    return {
      nextId: this.nextId,
      contacts: [...this.byId.values()].map(({ id, properties, createdAt, updatedAt }) => ({
        id,
        properties,
        createdAt,
        updatedAt,
      })),
    };
  }

  restore(saved: SavedContacts): void {
    this.reset();
    for (const { id, properties, createdAt, updatedAt } of saved.contacts) {
      const record: ContactRecord = { id, properties: { ...properties }, createdAt, updatedAt, snapshots: [] };
      record.snapshots.push({ id, properties: { ...properties }, createdAt, updatedAt, visibleAt: 0 });
      this.byId.set(id, record);
      if (properties.email) this.idByEmail.set(properties.email, id);
    }
    // Ids are never reused, even when the newest contact was archived.
    this.nextId = Math.max(
      saved.nextId,
      FIRST_ID,
      ...saved.contacts.map((c) => Number(c.id) + 1).filter(Number.isFinite),
    );
  }

  all(): Contact[] {
    return [...this.byId.values()].map((r) => ({
      id: r.id,
      properties: sortedObject(Object.entries(r.properties)),
      createdAt: new Date(r.createdAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
      archived: false,
    }));
  }

  /** The version of each contact search can see at `now`. */
  searchable(now = Date.now()): SearchableContact[] {
    const out: SearchableContact[] = [];
    for (const record of this.byId.values()) {
      let visible: Snapshot | undefined;
      for (const s of record.snapshots) if (s.visibleAt <= now) visible = s;
      if (visible)
        out.push({
          id: visible.id,
          properties: visible.properties,
          createdAt: visible.createdAt,
          updatedAt: visible.updatedAt,
        });
    }
    return out;
  }

  /** Properties of a read: the requested ones (null when unset) plus the three HubSpot always adds. */
  selectProperties(values: Record<string, string>, requested: string[] | undefined): Record<string, string | null> {
    const names =
      requested && requested.length > 0
        ? // Unknown names are ignored on reads, as HubSpot does.
          new Set([...requested.filter((n) => this.props.has(n)), ...ALWAYS_RETURNED])
        : new Set<string>(DEFAULT_RETURNED);
    return sortedObject([...names].map((n) => [n, values[n] ?? null]));
  }

  private toApi(record: ContactRecord, requested?: string[]): Record<string, unknown> {
    return {
      id: record.id,
      // Write responses carry every stored property; reads carry the selection.
      properties:
        requested === undefined
          ? sortedObject(Object.entries(record.properties))
          : this.selectProperties(record.properties, requested),
      createdAt: new Date(record.createdAt).toISOString(),
      updatedAt: new Date(record.updatedAt).toISOString(),
      archived: false,
    };
  }

  private find(id: string, idProperty: string | undefined): ContactRecord | undefined {
    if (!idProperty || idProperty === 'hs_object_id') return this.byId.get(id);
    if (idProperty === 'email') {
      const found = this.idByEmail.get(id.trim().toLowerCase());
      return found === undefined ? undefined : this.byId.get(found);
    }
    const def = this.props.find(idProperty);
    if (!def?.hasUniqueValue) {
      throw validationError(`${idProperty} is not a unique identifier property of contacts`, {
        idProperty: [idProperty],
      });
    }
    for (const record of this.byId.values()) if (record.properties[idProperty] === id) return record;
    return undefined;
  }

  private snapshot(record: ContactRecord, now: number): void {
    record.snapshots.push({
      id: record.id,
      properties: { ...record.properties },
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      visibleAt: now + this.searchLagMs,
    });
    // Versions older than the newest visible one can never be seen again.
    let newestVisible = 0;
    record.snapshots.forEach((s, i) => {
      if (s.visibleAt <= now) newestVisible = i;
    });
    if (newestVisible > 0) record.snapshots.splice(0, newestVisible);
  }

  private insert(values: Record<string, string | null>): ContactRecord {
    const now = Date.now();
    const id = String(this.nextId++);
    const properties: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) if (v !== null) properties[k] = v;
    const iso = new Date(now).toISOString();
    Object.assign(properties, { hs_object_id: id, createdate: iso, lastmodifieddate: iso });
    const record: ContactRecord = { id, properties, createdAt: now, updatedAt: now, snapshots: [] };
    this.byId.set(id, record);
    if (properties.email) this.idByEmail.set(properties.email, id);
    this.snapshot(record, now);
    return record;
  }

  private apply(record: ContactRecord, values: Record<string, string | null>): void {
    const now = Date.now();
    const oldEmail = record.properties.email;
    for (const [k, v] of Object.entries(values)) {
      if (v === null) delete record.properties[k];
      else record.properties[k] = v;
    }
    const newEmail = record.properties.email;
    if (oldEmail !== newEmail) {
      if (oldEmail) this.idByEmail.delete(oldEmail);
      if (newEmail) this.idByEmail.set(newEmail, record.id);
    }
    record.updatedAt = Math.max(now, record.updatedAt);
    record.properties.lastmodifieddate = new Date(record.updatedAt).toISOString();
    this.snapshot(record, now);
  }

  /** The id of another contact that already has `email`, if any. */
  private emailOwner(email: string | null | undefined, self?: string): string | undefined {
    if (!email) return undefined;
    const owner = this.idByEmail.get(email);
    return owner !== undefined && owner !== self ? owner : undefined;
  }

  private checked(properties: unknown): Record<string, string | null> {
    const { values, schemaErrors, valueErrors } = this.props.checkWrite(properties);
    const failures = [...schemaErrors, ...valueErrors];
    if (failures.length > 0) throw invalidPropertyValues(failures);
    return values;
  }

  create(body: unknown): Reply {
    if (!isRecord(body)) throw validationError('Invalid input JSON: expected an object with properties');
    const values = this.checked(body.properties);
    const existing = this.emailOwner(values.email);
    if (existing) throw contactExists(existing);
    return { status: 201, body: this.toApi(this.insert(values)) };
  }

  get(id: string, options: { idProperty?: string; properties?: string[] }): Reply {
    const record = this.find(id, options.idProperty);
    if (!record) throw objectNotFound(id);
    return { status: 200, body: this.toApi(record, options.properties ?? []) };
  }

  update(id: string, idProperty: string | undefined, body: unknown): Reply {
    const record = this.find(id, idProperty);
    if (!record) throw objectNotFound(id);
    if (!isRecord(body)) throw validationError('Invalid input JSON: expected an object with properties');
    const values = this.checked(body.properties);
    const existing = this.emailOwner(values.email, record.id);
    if (existing) throw contactExists(existing);
    this.apply(record, values);
    return { status: 200, body: this.toApi(record) };
  }

  archive(id: string): Reply {
    const record = this.byId.get(id);
    // HubSpot answers 204 for ids it does not know, too.
    if (record) {
      this.byId.delete(id);
      if (record.properties.email) this.idByEmail.delete(record.properties.email);
    }
    return { status: 204 };
  }

  list(query: { limit?: string; after?: string; properties?: string[] }): Reply {
    const limit = Math.min(Math.max(Number(query.limit ?? 10) || 10, 1), 100);
    const after = Number(query.after ?? 0) || 0;
    const records = [...this.byId.values()].filter((r) => Number(r.id) > after);
    const page = records.slice(0, limit);
    const body: Record<string, unknown> = { results: page.map((r) => this.toApi(r, query.properties ?? [])) };
    if (records.length > limit) {
      const next = String(Number(page[page.length - 1].id));
      body.paging = { next: { after: next, link: `/crm/v3/objects/contacts?after=${next}` } };
    }
    return { status: 200, body };
  }

  batchRead(body: unknown): Reply {
    const startedAt = new Date();
    const inputs = batchInputs(body);
    const { idProperty, properties } = body as Record<string, unknown>;
    if (idProperty !== undefined && typeof idProperty !== 'string')
      throw validationError('idProperty must be a string');
    const requested = stringList(properties) ?? [];
    const ids = [...new Set(inputs.map((i) => String(isRecord(i) ? i.id : i)))];
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const record = this.find(id, idProperty);
      if (record) results.push(this.toApi(record, requested));
      else missing.push(id);
    }
    // HubSpot groups every missing id into one error.
    const errors =
      missing.length > 0
        ? [
            {
              status: 'error',
              category: 'OBJECT_NOT_FOUND',
              message:
                'Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.',
              context: { ids: missing },
            },
          ]
        : [];
    return { status: errors.length > 0 ? 207 : 200, body: batchBody(startedAt, results, errors) };
  }

  /**
   * Creates or updates by a unique property (email for contacts). Unknown or read-only property
   * names refuse the whole batch (400); bad values and `shouldFail` inputs fail alone (207).
   */
  batchUpsert(body: unknown, shouldFail: (email: string | undefined) => boolean): Reply {
    const startedAt = new Date();
    const inputs = batchInputs(body);
    const prepared: Array<{ id: string; idProperty: string; checked: ReturnType<PropertyStore['checkWrite']> }> = [];
    const schemaErrors: PropertyValueError[] = [];
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const input of inputs) {
      if (!isRecord(input) || typeof input.id !== 'string' || input.id.trim() === '') {
        throw validationError('Each upsert input needs an id (the value of its idProperty)');
      }
      const idProperty = typeof input.idProperty === 'string' ? input.idProperty : '';
      if (idProperty !== 'email' && !this.props.find(idProperty)?.hasUniqueValue) {
        throw validationError(
          `Upsert needs idProperty to be email or a property with unique values; got ${idProperty || 'none'}`,
          { idProperty: [idProperty] },
        );
      }
      const id = idProperty === 'email' ? input.id.trim().toLowerCase() : input.id;
      const key = `${idProperty}\u0000${id}`;
      if (seen.has(key)) duplicates.add(id);
      seen.add(key);
      const checked = this.props.checkWrite(input.properties);
      schemaErrors.push(...checked.schemaErrors);
      prepared.push({ id, idProperty, checked });
    }
    if (schemaErrors.length > 0) throw invalidPropertyValues(schemaErrors);
    if (duplicates.size > 0) {
      throw validationError(`Duplicate IDs found in batch input: [${[...duplicates].join(', ')}]. IDs must be unique`, {
        ids: [...duplicates],
      });
    }

    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const { id, idProperty, checked } of prepared) {
      const values = { ...checked.values };
      const valueErrors = [...checked.valueErrors];
      if (idProperty === 'email') {
        const idCheck = this.props.checkWrite({ email: id });
        valueErrors.push(...idCheck.valueErrors);
        values.email = idCheck.values.email ?? null;
      } else {
        values[idProperty] = id;
      }
      const email = values.email ?? undefined;
      if (valueErrors.length === 0 && shouldFail(email)) {
        valueErrors.push({
          isValid: false,
          name: 'email',
          error: 'INVALID_EMAIL',
          message: `Email address ${email} is invalid (emulated partial_batch fault)`,
          localizedErrorMessage: `Email address ${email} is invalid (emulated partial_batch fault)`,
        });
      }
      if (valueErrors.length > 0) {
        const { body: detail } = invalidPropertyValues(valueErrors);
        errors.push(batchError('VALIDATION_ERROR', detail.message, id, detail.errors));
        continue;
      }
      const existing = this.find(id, idProperty);
      const owner = this.emailOwner(values.email, existing?.id);
      if (owner) {
        errors.push(batchError('CONFLICT', `Contact already exists. Existing ID: ${owner}`, id));
        continue;
      }
      if (existing) {
        this.apply(existing, values);
        results.push({ ...this.toApi(existing), new: false });
      } else {
        results.push({ ...this.toApi(this.insert(values)), new: true });
      }
    }
    return { status: errors.length > 0 ? 207 : 200, body: batchBody(startedAt, results, errors) };
  }

  /** All or nothing, as HubSpot's batch create: one bad input or existing email refuses the batch. */
  batchCreate(body: unknown): Reply {
    const startedAt = new Date();
    const inputs = batchInputs(body);
    const all: Array<Record<string, string | null>> = [];
    const failures: PropertyValueError[] = [];
    const emails = new Map<string, number>();
    for (const input of inputs) {
      const checked = this.props.checkWrite(isRecord(input) ? input.properties : undefined);
      failures.push(...checked.schemaErrors, ...checked.valueErrors);
      all.push(checked.values);
    }
    if (failures.length > 0) throw invalidPropertyValues(failures);
    for (const values of all) {
      const owner = this.emailOwner(values.email);
      if (owner) throw contactExists(owner);
      if (values.email) {
        if (emails.has(values.email))
          throw validationError(`Duplicate emails found in batch input: [${values.email}]`, { emails: [values.email] });
        emails.set(values.email, 1);
      }
    }
    const results = all.map((values) => this.toApi(this.insert(values)));
    return { status: 201, body: batchBody(startedAt, results, []) };
  }
}
