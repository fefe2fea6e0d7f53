import { createHmac, timingSafeEqual } from 'node:crypto';
import { isUuid } from './ids';

/** How long a confirmation link works. */
export const EMAIL_CONFIRMATION_TTL_HOURS = 72;

/**
 * `<userId>.<expires, unix seconds>.<hmac>`: the link in the mail that proves the user reads the
 * address. The address itself is not in the link but inside the MAC, so a link for an old address
 * confirms nothing after a change. Keyed to its purpose (`confirm-email:v1:`): no other value we
 * sign with the same secret passes for one. The email service signs, listings verifies.
 */
export function signEmailConfirmation(userId: string, email: string, secret: string, now = Date.now()): string {
  const exp = Math.floor(now / 1000) + EMAIL_CONFIRMATION_TTL_HOURS * 3600;
  return `${userId}.${exp}.${mac(userId, email, exp, secret)}`;
}

/** The user id of a genuine, unexpired link for `emailOf(userId)`, or why not. */
export async function verifyEmailConfirmation(
  token: string,
  secret: string,
  emailOf: (userId: string) => Promise<string | null>,
  now = Date.now(),
): Promise<{ userId: string } | { refused: 'invalid' | 'expired' }> {
  const [userId, expText, given, ...rest] = token.split('.');
  if (!userId || !expText || !given || rest.length || !isUuid(userId) || !/^\d{1,12}$/.test(expText))
    return { refused: 'invalid' };
  const email = await emailOf(userId);
  if (email === null) return { refused: 'invalid' };
  const exp = Number(expText);
  const expected = Buffer.from(mac(userId, email, exp, secret));
  const actual = Buffer.from(given);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { refused: 'invalid' };
  return exp * 1000 < now ? { refused: 'expired' } : { userId };
}

function mac(userId: string, email: string, exp: number, secret: string): string {
  return createHmac('sha256', secret)
    .update(`confirm-email:v1:${userId}:${email.trim().toLowerCase()}:${exp}`)
    .digest('base64url')
    .slice(0, 32);
}
