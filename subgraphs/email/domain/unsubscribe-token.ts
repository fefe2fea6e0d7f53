import { createHmac, timingSafeEqual } from 'node:crypto';
import { isUuid } from '../../../lib/ids';

/** `<messageId>.<hmac>`: an unsubscribe link names the mail it came in, and nobody can forge one for another mail. */
export function signUnsubscribeToken(messageId: string, secret: string): string {
  return `${messageId}.${mac(messageId, secret)}`;
}

/** The message id of a genuine token, or null. */
export function verifyUnsubscribeToken(token: string, secret: string): string | null {
  const [messageId, given, ...rest] = token.split('.');
  if (!messageId || !given || rest.length || !isUuid(messageId)) return null;
  const expected = Buffer.from(mac(messageId, secret));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? messageId : null;
}

function mac(messageId: string, secret: string): string {
  return createHmac('sha256', secret).update(`unsubscribe:${messageId}`).digest('base64url').slice(0, 32);
}
