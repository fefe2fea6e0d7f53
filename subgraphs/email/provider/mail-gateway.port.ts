/** What the email service needs from a mail provider, in our terms. SendGrid is the implementation. */
export interface OutgoingMail {
  to: string;
  from: string;
  subject: string;
  html: string;
  text: string;
  headers: Record<string, string>;
  categories: string[];
  /** Returned on every event webhook post for this mail; carries our message id. */
  customArgs: Record<string, string>;
}

export interface MailGateway {
  /** Hands one mail to the provider; resolves with the provider's message id. */
  send(mail: OutgoingMail, attempt: number): Promise<{ providerMessageId: string | null }>;
  /** Worth another attempt (network, timeout, 5xx, 429, a refused key). */
  isTransient(error: unknown): boolean;
  /** Transient and a sign the provider is unwell (counts towards the circuit breaker). */
  isOutage(error: unknown): boolean;
  /** Why the provider refused this mail for good (a 4xx validation error), or null. */
  rejectionOf(error: unknown): string | null;
  /** Verifies a signed event webhook post; false for a bad signature or a stale timestamp. */
  verifyWebhook(rawBody: Buffer, signature: string | undefined, timestamp: string | undefined): boolean;
}
