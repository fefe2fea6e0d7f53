import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random base62, the shape of Stripe's ids (`pi_3Pq…`, `req_…`). */
export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i += 1) out += ALPHABET[bytes[i] % ALPHABET.length];
  return out;
}

export const newId = (prefix: string, length = 24): string => `${prefix}_${randomToken(length)}`;
export const newRequestId = (): string => newId('req', 14);
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
