import crypto from 'node:crypto';
import { badRequest, methodNotAllowed, notFound, type SendGridErrorItem } from './errors';
import { isValidEmail } from './mail-send';

export type SingleSendStatus = 'draft' | 'scheduled' | 'triggered';

export interface SingleSendSendTo {
  list_ids: string[];
  segment_ids: string[];
  all: boolean;
  /**
   * Emulator-only: the addresses a triggered single send goes to. The emulator has no marketing
   * contacts, so lists, segments and `all` resolve to nobody; put recipients here instead.
   */
  emails: string[];
}

export interface SingleSendEmailConfig {
  subject: string | null;
  html_content: string | null;
  plain_content: string | null;
  generate_plain_content: boolean;
  design_id: string | null;
  editor: 'code' | 'design';
  suppression_group_id: number | null;
  custom_unsubscribe_url: string | null;
  sender_id: number | null;
  ip_pool: string | null;
}

export interface SingleSend {
  id: string;
  name: string;
  status: SingleSendStatus;
  categories: string[];
  send_at: string | null;
  send_to: SingleSendSendTo;
  email_config: SingleSendEmailConfig;
  created_at: string;
  updated_at: string;
}

export interface SingleSendStats {
  requests: number;
  delivered: number;
  opens: number;
  unique_opens: number;
  clicks: number;
  unique_clicks: number;
  bounces: number;
  bounce_drops: number;
  spam_reports: number;
  spam_report_drops: number;
  unsubscribes: number;
  invalid_emails: number;
}

export interface ApiResult {
  status: number;
  body?: unknown;
}

export interface SingleSendDeps {
  /** Sends a single send that just became `triggered` to its recipients. */
  trigger(singleSend: SingleSend): void;
  stats(id: string): SingleSendStats;
  /** Work the emulator waits for in flushWebhooks (a trigger due on the next tick). */
  track(work: Promise<void>): void;
}

export interface SingleSends {
  /** Answers /v3/marketing/singlesends… and /v3/marketing/stats/singlesends…; undefined for other paths. */
  handle(method: string, pathname: string, body: unknown): ApiResult | undefined;
  list(): SingleSend[];
  /** Forgets every single send and cancels their schedules. */
  reset(): void;
  /** Cancels schedules but keeps the data (close). */
  stop(): void;
  /** Replaces every single send with saved ones (a restart), scheduling those still `scheduled` (at once when overdue). */
  restore(saved: SingleSend[]): void;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MAX_NAME = 100;
const MAX_CATEGORIES = 10;
// setTimeout overflows above this and fires at once; farther schedules just stay `scheduled`.
const MAX_TIMER_MS = 2 ** 31 - 1;

const field = (name: string | null, message: string): SendGridErrorItem => ({ field: name, message });

function stringArray(value: unknown, name: string, errors: SendGridErrorItem[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    errors.push(field(name, `${name} must be an array of strings`));
    return undefined;
  }
  return value as string[];
}

function optionalString(value: unknown, name: string, errors: SendGridErrorItem[]): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string') {
    errors.push(field(name, `${name} must be a string`));
    return undefined;
  }
  return value;
}

function optionalInteger(value: unknown, name: string, errors: SendGridErrorItem[]): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    errors.push(field(name, `${name} must be an integer`));
    return undefined;
  }
  return value;
}

/** Applies a create or update body onto `target` (a fresh draft for create), collecting SendGrid-style errors. */
function applyBody(target: SingleSend, body: unknown, creating: boolean): SendGridErrorItem[] {
  const errors: SendGridErrorItem[] = [];
  if (!isObject(body)) return [field(null, 'request body must be a JSON object')];

  if (body.name !== undefined || creating) {
    if (typeof body.name !== 'string' || body.name.trim().length === 0) errors.push(field('name', 'name is required'));
    else if (body.name.length > MAX_NAME) errors.push(field('name', `name must be at most ${MAX_NAME} characters`));
    else target.name = body.name;
  }
  const categories = stringArray(body.categories, 'categories', errors);
  if (categories && categories.length > MAX_CATEGORIES)
    errors.push(field('categories', `at most ${MAX_CATEGORIES} categories are allowed`));
  else if (categories) target.categories = [...categories];
  const sendAt = optionalString(body.send_at, 'send_at', errors);
  // Create/update only pre-fills send_at; scheduling is PUT …/schedule.
  if (sendAt !== undefined) target.send_at = sendAt;

  if (body.send_to !== undefined) {
    if (!isObject(body.send_to)) errors.push(field('send_to', 'send_to must be an object'));
    else {
      const sendTo = body.send_to;
      const listIds = stringArray(sendTo.list_ids, 'send_to.list_ids', errors);
      const segmentIds = stringArray(sendTo.segment_ids, 'send_to.segment_ids', errors);
      const emails = stringArray(sendTo.emails, 'send_to.emails', errors);
      if (sendTo.all !== undefined && typeof sendTo.all !== 'boolean')
        errors.push(field('send_to.all', 'send_to.all must be a boolean'));
      emails?.forEach((email, i) => {
        if (!isValidEmail(email)) errors.push(field(`send_to.emails.${i}`, 'invalid email address'));
      });
      if (listIds) target.send_to.list_ids = [...listIds];
      if (segmentIds) target.send_to.segment_ids = [...segmentIds];
      if (emails) target.send_to.emails = [...emails];
      if (typeof sendTo.all === 'boolean') target.send_to.all = sendTo.all;
    }
  }

  if (body.email_config !== undefined) {
    if (!isObject(body.email_config)) errors.push(field('email_config', 'email_config must be an object'));
    else {
      const config = body.email_config;
      const c = target.email_config;
      const strings = [
        'subject',
        'html_content',
        'plain_content',
        'design_id',
        'custom_unsubscribe_url',
        'ip_pool',
      ] as const;
      for (const key of strings) {
        const value = optionalString(config[key], `email_config.${key}`, errors);
        if (value !== undefined) c[key] = value;
      }
      for (const key of ['sender_id', 'suppression_group_id'] as const) {
        const value = optionalInteger(config[key], `email_config.${key}`, errors);
        if (value !== undefined) c[key] = value;
      }
      if (config.generate_plain_content !== undefined) {
        if (typeof config.generate_plain_content !== 'boolean')
          errors.push(field('email_config.generate_plain_content', 'must be a boolean'));
        else c.generate_plain_content = config.generate_plain_content;
      }
      if (config.editor !== undefined) {
        if (config.editor !== 'code' && config.editor !== 'design')
          errors.push(field('email_config.editor', "editor must be 'code' or 'design'"));
        else c.editor = config.editor;
      }
    }
  }
  return errors;
}

/** What SendGrid requires before a single send may be scheduled (a draft may lack any of it). */
function scheduleProblems(ss: SingleSend): SendGridErrorItem[] {
  const errors: SendGridErrorItem[] = [];
  const c = ss.email_config;
  if (!c.subject) errors.push(field('email_config.subject', 'subject is required to schedule a single send'));
  if (!c.html_content && !c.plain_content && !c.design_id) {
    errors.push(
      field(
        'email_config.html_content',
        'content (html_content, plain_content or design_id) is required to schedule a single send',
      ),
    );
  }
  if (c.sender_id === null)
    errors.push(field('email_config.sender_id', 'sender_id is required to schedule a single send'));
  if (c.suppression_group_id === null && !c.custom_unsubscribe_url) {
    errors.push(
      field(
        'email_config.suppression_group_id',
        'suppression_group_id or custom_unsubscribe_url is required to schedule a single send',
      ),
    );
  }
  const t = ss.send_to;
  if (!t.all && t.list_ids.length === 0 && t.segment_ids.length === 0 && t.emails.length === 0) {
    errors.push(field('send_to', 'send_to requires list_ids, segment_ids, all or (emulator) emails'));
  }
  return errors;
}

export function createSingleSends(deps: SingleSendDeps): SingleSends {
  const store = new Map<string, SingleSend>();
  /** Cancels each pending trigger; a cancelled 'now' trigger still settles what flushWebhooks waits on. */
  const timers = new Map<string, () => void>();

  function cancelSchedule(id: string): void {
    const cancel = timers.get(id);
    timers.delete(id);
    cancel?.();
  }

  function fire(id: string): void {
    timers.delete(id);
    const ss = store.get(id);
    if (ss?.status !== 'scheduled') return;
    ss.status = 'triggered';
    ss.updated_at = new Date().toISOString();
    deps.trigger(ss);
  }

  function get(id: string): SingleSend {
    const ss = store.get(id);
    if (!ss) throw notFound();
    return ss;
  }

  function create(body: unknown): ApiResult {
    const now = new Date().toISOString();
    const ss: SingleSend = {
      id: crypto.randomUUID(),
      name: '',
      status: 'draft',
      categories: [],
      send_at: null,
      send_to: { list_ids: [], segment_ids: [], all: false, emails: [] },
      email_config: {
        subject: null,
        html_content: null,
        plain_content: null,
        generate_plain_content: true,
        design_id: null,
        editor: 'code',
        suppression_group_id: null,
        custom_unsubscribe_url: null,
        sender_id: null,
        ip_pool: null,
      },
      created_at: now,
      updated_at: now,
    };
    const errors = applyBody(ss, body, true);
    if (errors.length > 0) throw badRequest(errors);
    store.set(ss.id, ss);
    return { status: 201, body: ss };
  }

  function update(id: string, body: unknown): ApiResult {
    const ss = get(id);
    if (ss.status !== 'draft') throw badRequest([field('status', `a ${ss.status} single send cannot be updated`)]);
    const draft = structuredClone(ss);
    const errors = applyBody(draft, body, false);
    if (errors.length > 0) throw badRequest(errors);
    draft.updated_at = new Date().toISOString();
    store.set(id, draft);
    return { status: 200, body: draft };
  }

  function schedule(id: string, body: unknown): ApiResult {
    const ss = get(id);
    if (ss.status === 'triggered') throw badRequest([field('status', 'this single send has already been triggered')]);
    const sendAt = isObject(body) ? body.send_at : undefined;
    let at: Date;
    if (sendAt === 'now') at = new Date();
    else if (typeof sendAt === 'string' && !Number.isNaN(Date.parse(sendAt))) {
      at = new Date(sendAt);
      if (at.getTime() <= Date.now())
        throw badRequest([field('send_at', 'send_at must be in the future or the string "now"')]);
    } else {
      throw badRequest([field('send_at', 'send_at is required and must be an ISO 8601 date-time or the string "now"')]);
    }
    const problems = scheduleProblems(ss);
    if (problems.length > 0) throw badRequest(problems);

    cancelSchedule(id);
    ss.status = 'scheduled';
    ss.send_at = at.toISOString();
    ss.updated_at = new Date().toISOString();
    arm(id, sendAt === 'now' ? 0 : at.getTime() - Date.now());
    return { status: 201, body: { id, send_at: ss.send_at, status: ss.status } };
  }

  /** Fires a scheduled single send after `delay` ms; 0 is the next tick, as SendGrid does for "now". */
  function arm(id: string, delay: number): void {
    if (delay <= 0) {
      // Triggered on the next tick, like SendGrid moving it from scheduled to triggered shortly after.
      deps.track(
        new Promise<void>((resolve) => {
          const immediate = setImmediate(() => {
            fire(id);
            resolve();
          });
          timers.set(id, () => {
            clearImmediate(immediate);
            resolve();
          });
        }),
      );
    } else if (delay <= MAX_TIMER_MS) {
      const timer = setTimeout(() => fire(id), delay);
      timer.unref();
      timers.set(id, () => clearTimeout(timer));
    }
  }

  function unschedule(id: string): ApiResult {
    const ss = get(id);
    if (ss.status === 'triggered') throw badRequest([field('status', 'this single send has already been triggered')]);
    cancelSchedule(id);
    ss.status = 'draft';
    ss.send_at = null;
    ss.updated_at = new Date().toISOString();
    return { status: 200, body: { send_at: null, status: 'draft' } };
  }

  function statsResult(id: string) {
    return { id, ab_variation: 'all', ab_phase: 'all', aggregation: 'total', stats: deps.stats(id) };
  }

  return {
    handle(method, pathname, body) {
      const stats = /^\/v3\/marketing\/stats\/singlesends(?:\/([^/]+))?\/?$/.exec(pathname);
      if (stats) {
        if (method !== 'GET') throw methodNotAllowed();
        const id = stats[1] ? decodeURIComponent(stats[1]) : undefined;
        if (id !== undefined) {
          get(id);
          return { status: 200, body: { results: [statsResult(id)], _metadata: { count: 1 } } };
        }
        const results = [...store.keys()].map(statsResult);
        return { status: 200, body: { results, _metadata: { count: results.length } } };
      }

      const match = /^\/v3\/marketing\/singlesends(?:\/([^/]+)(\/schedule)?)?\/?$/.exec(pathname);
      if (!match) return undefined;
      const id = match[1] ? decodeURIComponent(match[1]) : undefined;
      if (id === undefined) {
        if (method === 'POST') return create(body);
        if (method === 'GET') {
          const result = [...store.values()];
          return { status: 200, body: { result, _metadata: { count: result.length } } };
        }
        throw methodNotAllowed();
      }
      if (match[2]) {
        if (method === 'PUT') return schedule(id, body);
        if (method === 'DELETE') return unschedule(id);
        throw methodNotAllowed();
      }
      switch (method) {
        case 'GET':
          return { status: 200, body: get(id) };
        case 'PATCH':
          return update(id, body);
        case 'DELETE':
          get(id);
          cancelSchedule(id);
          store.delete(id);
          return { status: 204 };
        default:
          throw methodNotAllowed();
      }
    },
    list: () => [...store.values()].map((ss) => structuredClone(ss)),
    reset() {
      this.stop();
      store.clear();
    },
    stop() {
      for (const id of [...timers.keys()]) cancelSchedule(id);
    },
    restore(saved) {
      this.reset();
      for (const ss of saved) store.set(ss.id, structuredClone(ss));
      for (const ss of store.values())
        if (ss.status === 'scheduled' && ss.send_at) arm(ss.id, Date.parse(ss.send_at) - Date.now());
    },
  };
}
