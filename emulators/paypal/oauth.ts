import { timingSafeEqual } from 'node:crypto';
import { newAccessToken } from './ids';

export interface Client {
  id: string;
  secret: string;
}

interface IssuedToken {
  clientId: string;
  expiresAt: number;
  /** Revoked early by a fault or the admin route: still well-formed, no longer accepted. */
  expired: boolean;
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Client credentials in, bearer tokens out: what `/v1/oauth2/token` hands out and the APIs accept. */
export function createTokenStore(clients: Client[], lifetimeSeconds: number) {
  let tokens = new Map<string, IssuedToken>();
  let lifetime = lifetimeSeconds;
  let requests = 0;
  let issued = 0;

  return {
    /** The client a Basic `id:secret` names, if the secret is right. */
    authenticate(id: string, secret: string): Client | undefined {
      return clients.find((client) => same(client.id, id) && same(client.secret, secret));
    },
    /** Counts a request to the token endpoint (answered or not). */
    countRequest(): void {
      requests += 1;
    },
    issue(clientId: string): { token: string; expiresIn: number } {
      const token = newAccessToken();
      tokens.set(token, { clientId, expiresAt: Date.now() + lifetime * 1000, expired: false });
      issued += 1;
      return { token, expiresIn: lifetime };
    },
    /** `unknown` for a token we never issued, `expired` for one past its time. */
    check(token: string): { clientId: string } | 'unknown' | 'expired' {
      const found = tokens.get(token);
      if (!found) return 'unknown';
      if (found.expired || Date.now() >= found.expiresAt) return 'expired';
      return { clientId: found.clientId };
    },
    expire(token: string): void {
      const found = tokens.get(token);
      if (found) found.expired = true;
    },
    expireAll(): number {
      let count = 0;
      for (const token of tokens.values())
        if (!token.expired && Date.now() < token.expiresAt) (token.expired = true), (count += 1);
      return count;
    },
    setLifetime(seconds: number): void {
      lifetime = seconds;
    },
    stats() {
      const now = Date.now();
      return {
        lifetimeSeconds: lifetime,
        tokenRequests: requests,
        tokensIssued: issued,
        activeTokens: [...tokens.values()].filter((t) => !t.expired && now < t.expiresAt).length,
      };
    },
    reset(): void {
      tokens = new Map();
      requests = 0;
      issued = 0;
    },
  };
}
export type TokenStore = ReturnType<typeof createTokenStore>;
