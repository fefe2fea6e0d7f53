import { and, eq, ne, sql } from 'drizzle-orm';
import type { Database } from '../../../lib/db';
import { SYSTEM_VIEWER, type EntityClient } from '../../../lib/entity-client';
import type { EventEnvelope } from '../../../lib/events';
import type { Logger } from '../../../lib/logger';
import { preferences } from '../db/schema';
import { signEmailConfirmation } from '../../../lib/email-confirmation';
import { isEmailAddress, PERSON_FIELDS, recipientOf, type EmailService, type Person } from './email.service';
import { formatMoney } from '../../../lib/currencies';

type ListingFacts = {
  id: string;
  title: string;
  description: string;
  price: { amount: number; currency: string };
  category: string;
  location: string;
  /** Its page on SayPro's site (listings builds it from SITE_URL). */
  url: string;
  expiresAt: string | null;
  seller: Person | null;
};
/** The seller comes along (listings owns both): one call per activation. */
const LISTING_FIELDS = `id title description price { amount currency } category location url expiresAt seller { ${PERSON_FIELDS} }`;

/**
 * The mail events cause. Runs as an `effect` consumer (outside a transaction: it reads users and
 * listings from their owner over HTTP). Every mail's dedupe key is derived from the event (or the
 * listing, for alerts), so a redelivered event, or a crash between queueing and the inbox entry,
 * queues nothing twice.
 */
export class EventMail {
  constructor(
    private readonly deps: {
      db: Database;
      email: EmailService;
      listings: EntityClient;
      logger: Logger;
      publicUrl: () => string;
      confirmationSecret: string;
    },
  ) {}

  /** The link that confirms `email` for the user (the page is /email/confirm; listings checks the token). */
  private confirmUrl(userId: string, email: string): string {
    return `${this.deps.publicUrl().replace(/\/+$/, '')}/email/confirm?token=${signEmailConfirmation(userId, email, this.deps.confirmationSecret)}`;
  }

  async handle(event: EventEnvelope): Promise<void> {
    switch (event.name) {
      case 'user.created':
        return this.welcome(event as EventEnvelope<'user.created'>);
      case 'user.updated': {
        const e = event as EventEnvelope<'user.updated'>;
        if (e.data.changed.includes('email')) await this.confirmNewAddress(e);
        return;
      }
      case 'payment.succeeded':
        return this.receipt(event as EventEnvelope<'payment.succeeded'>);
      case 'listing.status_changed': {
        const e = event as EventEnvelope<'listing.status_changed'>;
        if (e.data.to === 'ACTIVE') await this.listingActivated(e, e.data.listingId, e.data.sellerId);
        return;
      }
      case 'listing.created': {
        // A free listing is ACTIVE from the start: no status change follows.
        const e = event as EventEnvelope<'listing.created'>;
        if (e.data.status === 'ACTIVE') await this.listingActivated(e, e.data.listingId, e.data.sellerId);
        return;
      }
      default:
        return;
    }
  }

  /**
   * The registration's mail: the confirmation link, or, when another account has confirmed the
   * address, a notice saying so (same template and subject: the registrant's mail history shows
   * nothing different, so it tells them nothing about the address).
   */
  private async welcome(event: EventEnvelope<'user.created'>): Promise<void> {
    const { userId, name, email, addressInUse } = event.data;
    await this.deps.db.transaction(async (tx) => {
      await this.deps.email.rememberUser(tx, userId);
      if (!isEmailAddress(email)) return;
      await this.deps.email.enqueue(tx, {
        dedupeKey: `${event.id}:${userId}:WELCOME`,
        recipient: { userId, email, name, verified: false },
        template: 'WELCOME',
        data: {
          name,
          appUrl: this.deps.publicUrl(),
          ...(addressInUse ? { addressInUse: 'yes' } : { confirmUrl: this.confirmUrl(userId, email) }),
        },
      });
    });
    this.deps.email.onQueued();
  }

  /** A changed address gets its confirmation link, or the notice that it is taken (and nothing else until it is confirmed). */
  private async confirmNewAddress(event: EventEnvelope<'user.updated'>): Promise<void> {
    const [person] = await this.deps.listings<Person>(
      'User',
      [event.data.userId],
      PERSON_FIELDS,
      SYSTEM_VIEWER,
      event.requestId,
    );
    if (!person?.email || !isEmailAddress(person.email) || person.emailVerified) return;
    // Changed again since: that change's own event mails the newer address.
    if (event.data.email !== undefined && event.data.email.toLowerCase() !== person.email.toLowerCase()) return;
    await this.deps.email.enqueue(this.deps.db, {
      // Keyed by the address: changing back and forth sends each address its link once per event.
      dedupeKey: `${event.id}:${person.id}:CONFIRM_EMAIL:${person.email.toLowerCase()}`,
      recipient: recipientOf({ ...person, email: person.email }),
      template: 'CONFIRM_EMAIL',
      data: {
        name: person.name,
        ...(event.data.addressInUse
          ? { addressInUse: 'yes' }
          : { confirmUrl: this.confirmUrl(person.id, person.email) }),
      },
    });
    this.deps.email.onQueued();
  }

  private async receipt(event: EventEnvelope<'payment.succeeded'>): Promise<void> {
    const d = event.data;
    const [[person], [listing]] = await Promise.all([
      this.deps.listings<Person>('User', [d.userId], PERSON_FIELDS, SYSTEM_VIEWER, event.requestId),
      this.deps.listings<ListingFacts>('Listing', [d.listingId], LISTING_FIELDS, SYSTEM_VIEWER, event.requestId),
    ]);
    if (!person?.email || !isEmailAddress(person.email))
      return void this.deps.logger.warn({ eventId: event.id }, 'receipt not sent: the payer has no address');
    await this.deps.email.enqueue(this.deps.db, {
      dedupeKey: `${event.id}:${person.id}:PAYMENT_RECEIPT`,
      recipient: recipientOf({ ...person, email: person.email }),
      template: 'PAYMENT_RECEIPT',
      data: {
        name: person.name,
        listingTitle: listing?.title ?? 'your listing',
        amount: formatMoney(d.amount, d.currency),
        paymentId: d.paymentId,
        providerReference: d.providerReference,
        paidAt: new Date(event.occurredAt).toUTCString(),
      },
    });
    this.deps.email.onQueued();
  }

  private async listingActivated(event: EventEnvelope, listingId: string, eventSellerId: string): Promise<void> {
    const [listing] = await this.deps.listings<ListingFacts>(
      'Listing',
      [listingId],
      LISTING_FIELDS,
      SYSTEM_VIEWER,
      event.requestId,
    );
    if (!listing)
      return void this.deps.logger.warn({ eventId: event.id, listingId }, 'activated listing not found; no mail');
    const sellerId = listing.seller?.id ?? eventSellerId;
    const url = listing.url;

    // The seller's notice.
    const seller = listing.seller;
    if (seller?.email && isEmailAddress(seller.email)) {
      await this.deps.email.enqueue(this.deps.db, {
        dedupeKey: `${event.id}:${seller.id}:LISTING_PUBLISHED`,
        recipient: recipientOf({ ...seller, email: seller.email }),
        template: 'LISTING_PUBLISHED',
        data: {
          name: seller.name,
          listingTitle: listing.title,
          listingUrl: url,
          expiresAt: listing.expiresAt ? new Date(listing.expiresAt).toUTCString() : 'it is withdrawn',
        },
      });
    }

    // Alerts: users whose categories include this one (or who chose none) and, when they gave keywords, one of them appears.
    const candidates = await this.deps.db
      .select()
      .from(preferences)
      .where(
        and(
          eq(preferences.alertsEnabled, true),
          ne(preferences.userId, sellerId),
          sql`(jsonb_array_length(${preferences.alertCategories}) = 0 or ${preferences.alertCategories} @> ${JSON.stringify([listing.category])}::jsonb)`,
        ),
      );
    const haystack = `${listing.title} ${listing.description}`.toLowerCase();
    const matching = candidates.filter(
      (p) => p.alertKeywords.length === 0 || p.alertKeywords.some((k) => haystack.includes(k.toLowerCase())),
    );
    const price = formatMoney(listing.price.amount, listing.price.currency);
    for (let i = 0; i < matching.length; i += 100) {
      const chunk = matching.slice(i, i + 100).map((p) => p.userId);
      const people = await this.deps.listings<Person>('User', chunk, PERSON_FIELDS, SYSTEM_VIEWER, event.requestId);
      for (const person of people) {
        if (!person?.email || !isEmailAddress(person.email)) continue;
        await this.deps.email.enqueue(this.deps.db, {
          // Keyed by the listing: a listing that goes live again alerts nobody twice.
          dedupeKey: `alert:${listing.id}:${person.id}:NEW_LISTING_ALERT`,
          recipient: recipientOf({ ...person, email: person.email }),
          template: 'NEW_LISTING_ALERT',
          data: {
            name: person.name,
            listingTitle: listing.title,
            listingPrice: price,
            listingCategory: listing.category,
            listingLocation: listing.location,
            listingDescription:
              listing.description.length > 600 ? `${listing.description.slice(0, 597)}...` : listing.description,
            listingUrl: url,
          },
        });
      }
    }
    if (matching.length)
      this.deps.logger.info({ listingId: listing.id, alerts: matching.length }, 'new-listing alerts queued');
    this.deps.email.onQueued();
  }
}
