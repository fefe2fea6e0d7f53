import type { EventBus, EventName } from '../../../lib/events';
import type { Database } from '../../../lib/db';
import { EMAIL_DB_SCHEMA } from '../db/migrations';
import type { EventMail } from '../domain/event-mail';

export const EMAIL_EVENTS_QUEUE = 'email.mail-triggers';
export const EMAIL_EVENTS = [
  'user.created',
  'user.updated',
  'payment.succeeded',
  'listing.created',
  'listing.status_changed',
] as const satisfies readonly EventName[];

/** Welcome, receipt, listing-published and new-listing alerts from the events that cause them. */
export function consumeMailTriggers(deps: { bus: EventBus; db: Database; mail: EventMail }): Promise<void> {
  return deps.bus.consume({
    queue: EMAIL_EVENTS_QUEUE,
    events: EMAIL_EVENTS,
    db: deps.db,
    inboxSchema: EMAIL_DB_SCHEMA,
    effect: (event) => deps.mail.handle(event),
  });
}
