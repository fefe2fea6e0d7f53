import { createSign, createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Logger } from '../../lib/logger';
import { createWebhookDispatcher } from '../shared/webhooks';
import { invalidRequest, type ErrorDetail } from './errors';
import type { PayPalEvent } from './store';

export const AUTH_ALGO = 'SHA256withRSA';
/** Where the signing certificate is served (`PAYPAL-CERT-URL`); the path is what verification compares. */
export const CERT_PATH = '/v1/notifications/certs/CERT-360caa42-fca2a594-emulator';

/** `<transmission id>|<time>|<webhook id>|<CRC32 of the body, decimal>`: the string PayPal signs. */
export const signedString = (transmissionId: string, time: string, webhookId: string, body: string): string =>
  `${transmissionId}|${time}|${webhookId}|${crc32(Buffer.from(body, 'utf8')) >>> 0}`;

/**
 * The emulator's signing key. PayPal signs with a certificate's key; the emulator serves the
 * public key as PEM at the certificate URL (Node's verifiers take either).
 */
export function createSigner(webhookId: () => string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  return {
    publicPem,
    /** The PAYPAL-* headers of one transmission of `body`. */
    headers(body: string, certUrl: string): Record<string, string> {
      const transmissionId = randomUUID();
      const time = new Date().toISOString();
      const signature = createSign('RSA-SHA256')
        .update(signedString(transmissionId, time, webhookId(), body))
        .sign(privateKey, 'base64');
      return {
        'paypal-transmission-id': transmissionId,
        'paypal-transmission-time': time,
        'paypal-transmission-sig': signature,
        'paypal-cert-url': certUrl,
        'paypal-auth-algo': AUTH_ALGO,
        'user-agent': 'PayPal/AUHD-214.0-58632052',
      };
    },
    /**
     * `POST /v1/notifications/verify-webhook-signature`: SUCCESS only for an event this emulator
     * signed for this webhook id, unchanged (the CRC32 of the event as JSON is part of what is signed).
     */
    verify(input: Record<string, unknown>): 'SUCCESS' | 'FAILURE' {
      const required = [
        'auth_algo',
        'cert_url',
        'transmission_id',
        'transmission_sig',
        'transmission_time',
        'webhook_id',
        'webhook_event',
      ] as const;
      const missing: ErrorDetail[] = required
        .filter((field) => input[field] === undefined || input[field] === null || input[field] === '')
        .map((field) => ({
          field: `/${field}`,
          issue: 'MISSING_REQUIRED_PARAMETER',
          description: 'A required field / parameter is missing.',
          location: 'body',
        }));
      if (missing.length) throw invalidRequest(...missing);
      const {
        auth_algo: algo,
        cert_url: certUrl,
        transmission_id: id,
        transmission_sig: sig,
        transmission_time: time,
        webhook_id: hookId,
        webhook_event: event,
      } = input;
      if (
        algo !== AUTH_ALGO ||
        hookId !== webhookId() ||
        typeof id !== 'string' ||
        typeof sig !== 'string' ||
        typeof time !== 'string'
      )
        return 'FAILURE';
      let certPath: string;
      try {
        certPath = new URL(String(certUrl)).pathname;
      } catch {
        return 'FAILURE';
      }
      if (certPath !== CERT_PATH || typeof event !== 'object') return 'FAILURE';
      const body = JSON.stringify(event);
      try {
        return createVerify('RSA-SHA256')
          .update(signedString(id, time, webhookId(), body))
          .verify(publicPem, sig, 'base64')
          ? 'SUCCESS'
          : 'FAILURE';
      } catch {
        return 'FAILURE';
      }
    },
  };
}
export type Signer = ReturnType<typeof createSigner>;

/** Deliveries as PayPal makes them: compact JSON, a fresh transmission (id, time, signature) per attempt. */
export function createPayPalWebhooks(options: {
  signer: Signer;
  certUrl: () => string;
  retryDelaysMs: number[];
  timeoutMs: number;
  logger: Logger;
}) {
  return createWebhookDispatcher<PayPalEvent>({
    render(event) {
      const body = JSON.stringify(event);
      return { body, headers: options.signer.headers(body, options.certUrl()) };
    },
    describe: (event) => ({ id: event.id, type: event.event_type }),
    retryDelaysMs: options.retryDelaysMs,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
  });
}
