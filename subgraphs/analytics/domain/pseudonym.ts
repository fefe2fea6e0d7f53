import { createHmac } from 'node:crypto';

/**
 * The GA4 client_id and user_id of one of our users: HMAC-SHA256 of our user id under a server
 * secret, 32 hex characters. Stable (the same user is one GA4 user across events), not reversible
 * without the secret, and unlinkable to our ids by anyone who reads GA4. Never the email or name.
 */
export function pseudonymOf(userId: string, secret: string): string {
  return createHmac('sha256', secret).update(`ga4:${userId}`).digest('hex').slice(0, 32);
}
