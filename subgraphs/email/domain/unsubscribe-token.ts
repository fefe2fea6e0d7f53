import { createHmac, timingSafeEqual } from 'node:crypto';
import { isUuid } from '../../../lib/ids';

/**
 * `<messageId>.<expires, unix seconds>.<hmac>`: an unsubscribe link names the mail it came in and
 * when it stops working, and nobody can forge one for another mail or stretch its life. The MAC is
 * keyed to this purpose (`unsubscribe:v2:`), so no other signed value of ours passes for one.
 */
export function signUnsubscribeToken(messageId: string, secret: string, expiresAt: Date): string {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return `${messageId}.${exp}.${mac(messageId, exp, secret)}`;
}

/** The message id of a genuine token that has not expired, or why not. */
export function verifyUnsubscribeToken(
  token: string,
  secret: string,
  now = Date.now(),
): { messageId: string } | { refused: 'invalid' | 'expired' } {
  const [messageId, expText, given, ...rest] = token.split('.');
  if (!messageId || !expText || !given || rest.length || !isUuid(messageId) || !/^\d{1,12}$/.test(expText))
    return { refused: 'invalid' };
  const exp = Number(expText);
  const expected = Buffer.from(mac(messageId, exp, secret));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { refused: 'invalid' };
  return exp * 1000 < now ? { refused: 'expired' } : { messageId };
}

function mac(messageId: string, exp: number, secret: string): string {
  return createHmac('sha256', secret).update(`unsubscribe:v2:${messageId}:${exp}`).digest('base64url').slice(0, 32);
}
