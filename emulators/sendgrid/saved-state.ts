import { z } from 'zod';
import { parseWith } from '../shared/state-file';
import type { SendGridEvent, SigningKey } from './events';
import type { StoredMessage } from './mail-send';
import type { SingleSend } from './single-sends';

/** The format the emulator writes; raise it when the shape changes (and read the old one). */
export const STATE_VERSION = 1;

/** One accepted message for one personalization, with the events it had. */
export interface SavedMessage {
  message: StoredMessage;
  personalizationIndex: number;
  recipients: string[];
  smtpId: string;
  payloads: SendGridEvent[];
  singleSend?: { id: string; name: string };
}

export interface SavedSuppressions {
  bounces: string[];
  spamReports: string[];
  unsubscribes: string[];
  groupUnsubscribes: Record<string, string[]>;
}

/**
 * What survives a restart: the mailbox with every message's events, single sends (scheduled ones
 * are scheduled again), suppressions, the events the webhook had not delivered, and the signing key
 * (so a receiver's verification key stays valid). Request and delivery logs and faults do not.
 */
export interface SavedState {
  signingKey: SigningKey;
  messages: SavedMessage[];
  singleSends: SingleSend[];
  suppressions: SavedSuppressions;
  undelivered: SendGridEvent[];
}

/** Checked as far as the emulator's lookups need; the rest was written by this code. */
const loose = <T>(shape: z.ZodRawShape) => z.object(shape).passthrough() as unknown as z.ZodType<T>;
const event = loose<SendGridEvent>({
  email: z.string(),
  event: z.string(),
  sg_event_id: z.string(),
  sg_message_id: z.string(),
});
const emails = z.array(z.string());

const savedStateSchema: z.ZodType<SavedState> = z.object({
  signingKey: z.object({ privateKeyPem: z.string().min(1), publicKeyBase64Der: z.string().min(1) }),
  messages: z.array(
    z.object({
      message: loose<StoredMessage>({
        id: z.string(),
        subject: z.string(),
        to: z.array(z.object({ email: z.string() }).passthrough()),
        events: z.array(z.unknown()),
      }),
      personalizationIndex: z.number().int().nonnegative(),
      recipients: emails,
      smtpId: z.string(),
      payloads: z.array(event),
      singleSend: z.object({ id: z.string(), name: z.string() }).optional(),
    }),
  ),
  singleSends: z.array(
    loose<SingleSend>({
      id: z.string(),
      status: z.enum(['draft', 'scheduled', 'triggered']),
      send_at: z.string().nullable(),
    }),
  ),
  suppressions: z.object({
    bounces: emails,
    spamReports: emails,
    unsubscribes: emails,
    groupUnsubscribes: z.record(emails),
  }),
  undelivered: z.array(event),
});

export const parseSavedState = parseWith(savedStateSchema);
