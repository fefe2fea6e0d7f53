import { recordProviderCall } from '../../../lib/metrics';
import { Client } from '@sendgrid/client';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { MailService } from '@sendgrid/mail';
import type { Logger } from '../../../lib/logger';
import type { MailGateway } from './mail-gateway.port';

export interface SendGridAdapterOptions {
  apiKey: string;
  /** Base URL of a SendGrid-compatible API (the local emulator); SendGrid itself when absent. */
  apiUrl?: string;
  /** Per-request timeout, ms (the SDK has none). @default 10000 */
  timeoutMs?: number;
  /** Event webhook verification key, base64 DER as SendGrid shows it. */
  webhookPublicKey: string;
  /** Oldest accepted webhook timestamp, seconds. @default 600 */
  webhookToleranceSeconds?: number;
  logger: Logger;
}

/** SendGrid's ResponseError is not exported at runtime: a numeric `code` with a `response` object. */
const statusOf = (error: unknown): number | undefined => {
  const e = error as { code?: unknown; response?: unknown };
  return typeof e?.code === 'number' && typeof e.response === 'object' && e.response !== null ? e.code : undefined;
};
/** axios network failures carry string codes. */
const networkCodeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * The only file that imports the SendGrid SDKs. Each adapter has its own client (no process-global
 * key), with our timeout and no proxy (axios would otherwise honour HTTP(S)_PROXY). Every call is
 * logged with our fields only: SendGrid's errors carry the request (the API key header, the body
 * with addresses), so they are never logged as they are.
 */
export function createSendGridAdapter(options: SendGridAdapterOptions): MailGateway {
  const client = new Client();
  client.setApiKey(options.apiKey); // first: it resets the base URL
  if (options.apiUrl) client.setDefaultRequest('baseUrl', options.apiUrl.replace(/\/+$/, ''));
  // Both go straight into axios' options: the SDK's types only list its own fields.
  const setAxiosDefault = client.setDefaultRequest.bind(client) as (key: string, value: unknown) => void;
  setAxiosDefault('proxy', false);
  const mail = new MailService();
  mail.setClient(client);
  mail.setTimeout(options.timeoutMs ?? 10_000);
  const log = options.logger.child({ provider: 'sendgrid' });
  const webhook = new EventWebhook();
  const publicKey = webhook.convertPublicKeyToECDSA(options.webhookPublicKey);
  const toleranceSeconds = options.webhookToleranceSeconds ?? 600;

  const isTransient = (error: unknown): boolean => {
    const status = statusOf(error);
    if (status === undefined)
      return (
        networkCodeOf(error) !== undefined || /timeout|socket|network|ECONN/i.test((error as Error)?.message ?? '')
      );
    return status === 429 || status >= 500 || status === 401 || status === 403 || status === 408;
  };

  return {
    async send(message, attempt) {
      const started = Date.now();
      try {
        const [response] = await mail.send({
          to: message.to,
          from: message.from,
          subject: message.subject,
          text: message.text,
          html: message.html,
          headers: message.headers,
          categories: message.categories,
          customArgs: message.customArgs,
        });
        const providerMessageId = (response.headers['x-message-id'] as string | undefined) ?? null;
        recordProviderCall({
          provider: 'sendgrid',
          operation: 'POST /v3/mail/send',
          status: response.statusCode,
          durationMs: Date.now() - started,
          attempt,
        });
        log.info(
          {
            operation: 'mail.send',
            status: response.statusCode,
            durationMs: Date.now() - started,
            attempt,
            providerMessageId,
            messageId: message.customArgs.saypro_message_id,
          },
          'sendgrid call',
        );
        return { providerMessageId };
      } catch (err) {
        recordProviderCall({
          provider: 'sendgrid',
          operation: 'POST /v3/mail/send',
          status: statusOf(err),
          durationMs: Date.now() - started,
          attempt,
        });
        log.warn(
          {
            operation: 'mail.send',
            status: statusOf(err) ?? null,
            error:
              statusOf(err) !== undefined ? 'ResponseError' : (networkCodeOf(err) ?? (err as Error)?.name ?? 'Error'),
            durationMs: Date.now() - started,
            attempt,
            messageId: message.customArgs.saypro_message_id,
          },
          'sendgrid call failed',
        );
        throw err;
      }
    },
    isTransient,
    isOutage: (error) => isTransient(error) && statusOf(error) !== 401 && statusOf(error) !== 403,
    rejectionOf(error) {
      const status = statusOf(error);
      if (status === undefined || isTransient(error)) return null;
      const body = (error as { response?: { body?: unknown } }).response?.body;
      const errors = (body as { errors?: Array<{ message?: string; field?: string | null }> } | undefined)?.errors;
      const reasons = Array.isArray(errors)
        ? errors.map((e) => (e.field ? `${e.field}: ${e.message ?? ''}` : (e.message ?? ''))).filter(Boolean)
        : [];
      return `SendGrid refused the mail (${status})${reasons.length ? `: ${reasons.join('; ')}` : ''}`.slice(0, 500);
    },
    verifyWebhook(rawBody, signature, timestamp) {
      if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
      if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
      try {
        return webhook.verifySignature(publicKey, rawBody.toString('utf8'), signature, timestamp);
      } catch {
        return false;
      }
    },
  };
}
