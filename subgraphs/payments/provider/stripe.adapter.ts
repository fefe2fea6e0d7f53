import { recordProviderCall, routeOf } from '../../../lib/metrics';
import Stripe from 'stripe';
import type { Logger } from '../../../lib/logger';
import {
  PaymentRequestRejectedError,
  WebhookSignatureError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentGateway,
  type PaymentState,
  type ProviderEvent,
  type RefundOutcome,
  type RefundRequest,
} from './payment-gateway.port';

export interface StripeAdapterOptions {
  secretKey: string;
  webhookSecret: string;
  /** Base URL of a Stripe-compatible API (the local emulator); Stripe itself when absent. */
  apiUrl?: string;
  /** Per-request timeout, ms. @default 10000 */
  timeoutMs?: number;
  logger: Logger;
}

/** Stripe's own status → ours. */
const INTENT_STATUS: Record<string, PaymentState['status']> = {
  succeeded: 'succeeded',
  processing: 'processing',
  requires_action: 'requires_action',
  requires_confirmation: 'requires_action',
  requires_capture: 'processing',
  requires_payment_method: 'failed',
  canceled: 'canceled',
};

/**
 * The only file that imports `stripe`. The SDK's own retries are off (maxNetworkRetries: 0): our
 * resilience layer owns retries, reusing our idempotency key, and every attempt is logged here.
 */
export function createStripeAdapter(options: StripeAdapterOptions): PaymentGateway {
  const target = options.apiUrl ? new URL(options.apiUrl) : undefined;
  const stripe = new Stripe(options.secretKey, {
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? 10_000,
    telemetry: false,
    ...(target
      ? {
          host: target.hostname,
          port: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
          protocol: target.protocol.replace(':', '') as 'http' | 'https',
        }
      : {}),
  });
  const log = options.logger.child({ provider: 'stripe' });

  /** One SDK call = one HTTP request (no SDK retries): log it, never card data or keys. */
  async function call<T extends { lastResponse?: { requestId?: string; statusCode?: number } }>(
    method: string,
    path: string,
    attempt: number,
    idempotencyKey: string | undefined,
    run: () => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    try {
      const result = await run();
      recordProviderCall({
        provider: 'stripe',
        operation: `${method} ${routeOf(path)}`,
        status: result.lastResponse?.statusCode ?? 200,
        durationMs: Date.now() - started,
        attempt,
      });
      log.info(
        {
          method,
          path,
          status: result.lastResponse?.statusCode ?? 200,
          durationMs: Date.now() - started,
          stripeRequestId: result.lastResponse?.requestId,
          idempotencyKey,
          attempt,
        },
        'stripe call',
      );
      return result;
    } catch (err) {
      const e = err as Stripe.errors.StripeError;
      recordProviderCall({
        provider: 'stripe',
        operation: `${method} ${routeOf(path)}`,
        status: e.statusCode,
        durationMs: Date.now() - started,
        attempt,
      });
      log.warn(
        {
          method,
          path,
          status: e.statusCode ?? null,
          durationMs: Date.now() - started,
          stripeRequestId: e.requestId,
          idempotencyKey,
          attempt,
          errorType: e.rawType ?? e.type,
          code: e.code,
        },
        'stripe call failed',
      );
      throw err;
    }
  }

  /** Worth another attempt with the same key: network, 5xx, 409 (our own request in flight), 429. */
  const isTransient = (error: unknown): boolean => {
    if (error instanceof Stripe.errors.StripeConnectionError || error instanceof Stripe.errors.StripeAPIError)
      return true;
    if (error instanceof Stripe.errors.StripeRateLimitError) return true;
    if (error instanceof Stripe.errors.StripeError) {
      const status = error.statusCode ?? 0;
      return status === 409 || status === 429 || status >= 500;
    }
    return false;
  };

  const toState = (intent: Stripe.PaymentIntent): PaymentState => {
    const charge = typeof intent.latest_charge === 'object' && intent.latest_charge ? intent.latest_charge : undefined;
    return {
      reference: intent.id,
      status: INTENT_STATUS[intent.status] ?? 'processing',
      amount: intent.amount,
      currency: intent.currency.toUpperCase(),
      amountRefunded: charge?.amount_refunded ?? 0,
      paymentId: intent.metadata?.payment_id,
      declineCode: intent.last_payment_error?.decline_code ?? intent.last_payment_error?.code,
      declineMessage: intent.last_payment_error?.message,
    };
  };

  return {
    async charge(request: ChargeRequest, attempt: number): Promise<ChargeOutcome> {
      try {
        const intent = await call('POST', '/v1/payment_intents', attempt, request.idempotencyKey, () =>
          stripe.paymentIntents.create(
            {
              amount: request.amount,
              currency: request.currency.toLowerCase(),
              payment_method: request.paymentMethodId,
              confirm: true,
              description: request.description,
              metadata: request.metadata,
              // Server-side confirmation: no redirect-based payment methods.
              automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            },
            { idempotencyKey: request.idempotencyKey },
          ),
        );
        switch (intent.status) {
          case 'succeeded':
            return {
              kind: 'succeeded',
              reference: intent.id,
              amount: intent.amount,
              currency: intent.currency.toUpperCase(),
            };
          case 'requires_action':
          case 'requires_confirmation':
            return { kind: 'requires_action', reference: intent.id, clientSecret: intent.client_secret ?? '' };
          case 'requires_payment_method':
            return {
              kind: 'declined',
              reference: intent.id,
              code: intent.last_payment_error?.decline_code ?? intent.last_payment_error?.code ?? 'card_declined',
              message: intent.last_payment_error?.message ?? 'The payment was declined.',
            };
          default:
            return { kind: 'processing', reference: intent.id };
        }
      } catch (err) {
        if (err instanceof Stripe.errors.StripeCardError) {
          const intent = (err.raw as { payment_intent?: { id?: string } }).payment_intent;
          return {
            kind: 'declined',
            reference: intent?.id ?? null,
            code: err.decline_code ?? err.code ?? 'card_declined',
            message: err.message,
          };
        }
        if (err instanceof Stripe.errors.StripeInvalidRequestError)
          throw new PaymentRequestRejectedError(err.message, err.param);
        throw err;
      }
    },

    async retrieve(reference) {
      const intent = await call('GET', `/v1/payment_intents/${reference}`, 1, undefined, () =>
        stripe.paymentIntents.retrieve(reference, { expand: ['latest_charge'] }),
      );
      return toState(intent);
    },

    async refund(request: RefundRequest, attempt: number): Promise<RefundOutcome> {
      try {
        const refund = await call('POST', '/v1/refunds', attempt, request.idempotencyKey, () =>
          stripe.refunds.create(
            { payment_intent: request.reference, ...(request.amount !== undefined ? { amount: request.amount } : {}) },
            { idempotencyKey: request.idempotencyKey },
          ),
        );
        const status =
          refund.status === 'succeeded'
            ? 'succeeded'
            : refund.status === 'failed' || refund.status === 'canceled'
              ? 'failed'
              : 'pending';
        return { reference: refund.id, amount: refund.amount, status };
      } catch (err) {
        if (err instanceof Stripe.errors.StripeInvalidRequestError)
          throw new PaymentRequestRejectedError(err.message, err.param);
        throw err;
      }
    },

    parseWebhook(rawBody, signatureHeader): ProviderEvent {
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, signatureHeader ?? '', options.webhookSecret, 300);
      } catch (err) {
        throw new WebhookSignatureError((err as Error).message);
      }
      const object = event.data.object as {
        id?: string;
        object?: string;
        payment_intent?: string | { id: string };
        metadata?: Record<string, string>;
      };
      if (event.type.startsWith('payment_intent.') && object.id) {
        return { id: event.id, type: 'payment.changed', reference: object.id, paymentId: object.metadata?.payment_id };
      }
      if (event.type === 'charge.refunded' || event.type.startsWith('refund.')) {
        const intent = typeof object.payment_intent === 'string' ? object.payment_intent : object.payment_intent?.id;
        if (intent)
          return { id: event.id, type: 'refund.changed', reference: intent, paymentId: object.metadata?.payment_id };
      }
      return { id: event.id, type: 'ignored', providerType: event.type };
    },

    isTransient,
    isOutage: (error) => isTransient(error) && (error as Stripe.errors.StripeError).statusCode !== 409,
  };
}
