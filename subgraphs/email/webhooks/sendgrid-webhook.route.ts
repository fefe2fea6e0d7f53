import type http from 'node:http';
import { readBody, sendJson, type RouteHandler } from '../../../lib/http';
import type { Logger } from '../../../lib/logger';
import type { EmailService, ProviderEvent } from '../domain/email.service';
import type { MailGateway } from '../provider/mail-gateway.port';

/** SendGrid batches up to a few thousand small events per post. */
const MAX_WEBHOOK_BYTES = 2 * 1024 * 1024;
export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/**
 * POST /webhooks/sendgrid: the raw body is verified (ECDSA signature over timestamp + body, and a
 * recent timestamp) before anything is parsed; a forged or stale post is a 401 and changes nothing.
 * Events already applied (by sg_event_id) are skipped; a processing failure answers 500 so SendGrid
 * posts again.
 */
export function createSendGridWebhookRoute(deps: {
  gateway: MailGateway;
  email: EmailService;
  logger: Logger;
}): RouteHandler {
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    const raw = await readBody(req, MAX_WEBHOOK_BYTES);
    const header = (name: string) =>
      typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined;
    if (!deps.gateway.verifyWebhook(raw, header(SIGNATURE_HEADER), header(TIMESTAMP_HEADER))) {
      deps.logger.warn({ bytes: raw.length }, 'sendgrid webhook refused: bad signature or stale timestamp');
      return sendJson(res, 401, { error: 'invalid signature' });
    }
    let events: unknown;
    try {
      events = JSON.parse(raw.toString('utf8'));
    } catch {
      return sendJson(res, 400, { error: 'malformed JSON' });
    }
    if (!Array.isArray(events)) return sendJson(res, 400, { error: 'expected an array of events' });
    try {
      const applied = await deps.email.applyProviderEvents(events as ProviderEvent[]);
      deps.logger.info({ events: events.length, applied }, 'sendgrid webhook');
      sendJson(res, 200, { received: events.length, applied });
    } catch (err) {
      deps.logger.error({ error: (err as Error).name }, 'sendgrid webhook processing failed; SendGrid will retry');
      sendJson(res, 500, { error: 'processing failed' });
    }
  };
}
