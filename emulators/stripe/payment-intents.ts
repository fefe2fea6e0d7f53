import { createCharge } from './charges';
import { formatAmount, MAXIMUM_AMOUNT, minimumAmount, SUPPORTED_CURRENCIES } from './currencies';
import { docUrl, invalidRequest, parameterMissing, resourceMissing, StripeApiError } from './errors';
import type { FormObject } from './form';
import { newId, nowSeconds, randomToken } from './ids';
import {
  expandParam,
  listOptions,
  metadataParam,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalList,
  optionalNonEmpty,
  optionalObject,
  paginate,
  rejectUnknown,
} from './params';
import { cardFor, createTestPaymentMethod, TEST_CARDS, type CardOutcome } from './test-cards';
import type {
  ApiContext,
  ApiResult,
  LastPaymentError,
  NextAction,
  PaymentIntent,
  PaymentMethod,
  StripeStore,
} from './types';

const EXPANDABLE = ['latest_charge', 'payment_method'] as const;

/** Every parameter Stripe's create endpoint takes: anything else is refused as Stripe would. */
const CREATE_PARAMS = [
  'allowed_payment_method_types',
  'amount',
  'amount_details',
  'application_fee_amount',
  'automatic_payment_methods',
  'capture_method',
  'confirm',
  'confirmation_method',
  'confirmation_token',
  'customer',
  'customer_account',
  'description',
  'error_on_requires_action',
  'excluded_payment_method_types',
  'expand',
  'hooks',
  'mandate',
  'mandate_data',
  'metadata',
  'off_session',
  'on_behalf_of',
  'payment_details',
  'payment_method',
  'payment_method_configuration',
  'payment_method_data',
  'payment_method_options',
  'payment_method_types',
  'radar_options',
  'receipt_email',
  'return_url',
  'setup_future_usage',
  'shipping',
  'statement_descriptor',
  'statement_descriptor_suffix',
  'transfer_data',
  'transfer_group',
  'use_stripe_sdk',
  'currency',
];
const CONFIRM_PARAMS = [
  'allowed_payment_method_types',
  'capture_method',
  'excluded_payment_method_types',
  'confirmation_token',
  'error_on_requires_action',
  'expand',
  'mandate',
  'mandate_data',
  'off_session',
  'payment_method',
  'payment_method_data',
  'payment_method_options',
  'payment_method_types',
  'radar_options',
  'receipt_email',
  'return_url',
  'setup_future_usage',
  'shipping',
  'use_stripe_sdk',
];
const CANCEL_PARAMS = ['cancellation_reason', 'expand'];
const LIST_PARAMS = ['created', 'customer', 'customer_account', 'ending_before', 'expand', 'limit', 'starting_after'];

/** From this API version on, PaymentIntents accept the Dashboard's payment methods unless told otherwise. */
const AUTOMATIC_PAYMENT_METHODS_SINCE = '2023-08-16';

const NOT_CONFIRMABLE = (status: string) =>
  `You cannot confirm this PaymentIntent because it has a status of ${status}. Only a PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, requires_action, requires_payment_method.`;

/** A copy for the wire, with `expand[]` fields replaced by their objects. */
export function renderIntent(store: StripeStore, intent: PaymentIntent, expand: readonly string[] = []): PaymentIntent {
  const copy = structuredClone(intent);
  if (expand.includes('latest_charge') && typeof intent.latest_charge === 'string') {
    copy.latest_charge = structuredClone(store.charges.get(intent.latest_charge) ?? null);
  }
  if (expand.includes('payment_method') && typeof intent.payment_method === 'string') {
    copy.payment_method = structuredClone(store.paymentMethods.get(intent.payment_method) ?? null);
  }
  return copy;
}

function findIntent(store: StripeStore, id: string, param = 'intent', status: 400 | 404 = 404): PaymentIntent {
  const intent = store.paymentIntents.get(id);
  if (!intent) throw resourceMissing('payment_intent', id, param, status);
  return intent;
}

/**
 * Stripe's test payment method names (`pm_card_visa`, …) make a fresh PaymentMethod; any other id
 * must be one we created. A misspelt test name (`pm_card_visa_declined`) is `resource_missing`, as
 * Stripe answers it, never a card that pays.
 */
function resolvePaymentMethod(store: StripeStore, id: string): PaymentMethod {
  if (Object.hasOwn(TEST_CARDS, id)) return createTestPaymentMethod(store, id);
  const existing = store.paymentMethods.get(id);
  if (!existing) throw resourceMissing('PaymentMethod', id, 'payment_method', 400);
  return existing;
}

interface ConfirmOptions {
  returnUrl?: string;
  offSession: boolean;
  errorOnRequiresAction: boolean;
}

function parseReturnUrl(params: FormObject): string | undefined {
  const value = optionalNonEmpty(params, 'return_url');
  if (value === undefined) return undefined;
  try {
    new URL(value);
  } catch {
    throw invalidRequest('Not a valid URL', { param: 'return_url' });
  }
  return value;
}

function parseOffSession(params: FormObject): boolean {
  const raw = optionalNonEmpty(params, 'off_session');
  if (raw === undefined || raw === 'false') return false;
  if (raw === 'true' || raw === 'one_off' || raw === 'recurring') return true;
  throw invalidRequest(`Invalid off_session: must be one of true, false, one_off or recurring`, {
    param: 'off_session',
  });
}

function lastPaymentError(
  method: PaymentMethod,
  chargeId: string | undefined,
  outcome: Extract<CardOutcome, { kind: 'decline' }>,
): LastPaymentError {
  return {
    ...(chargeId ? { charge: chargeId } : {}),
    code: outcome.code,
    decline_code: outcome.declineCode,
    doc_url: docUrl(outcome.code),
    message: outcome.message,
    ...(outcome.param ? { param: outcome.param } : {}),
    payment_method: structuredClone(method),
    type: 'card_error',
  };
}

function nextActionFor(
  ctx: ApiContext,
  intent: PaymentIntent,
  flow: 'redirect' | 'fingerprint',
  returnUrl: string | undefined,
): NextAction {
  const source = newId('src');
  const authenticateUrl = `${ctx.baseUrl}/__emulator/payment_intents/${intent.id}/authenticate`;
  // Given a return_url, Stripe sends the customer to a page and back; otherwise Stripe.js handles it.
  if (returnUrl) {
    return {
      type: 'redirect_to_url',
      redirect_to_url: { return_url: returnUrl, url: `${authenticateUrl}?return_url=${encodeURIComponent(returnUrl)}` },
    };
  }
  return flow === 'redirect'
    ? {
        type: 'use_stripe_sdk',
        use_stripe_sdk: {
          type: 'three_d_secure_redirect',
          source,
          stripe_js: authenticateUrl,
          known_frame_issues: 'false',
        },
      }
    : {
        type: 'use_stripe_sdk',
        use_stripe_sdk: {
          type: 'stripe_3ds2_fingerprint',
          directory_server_name: 'visa',
          merchant: 'acct_emulator',
          server_transaction_id: randomToken(32),
          three_d_secure_2_source: source,
          three_ds_method_url: '',
          three_ds_optimizations: 'k',
        },
      };
}

function succeed(ctx: ApiContext, intent: PaymentIntent, method: PaymentMethod): void {
  const charge = createCharge(ctx, intent, method, { kind: 'succeed' });
  Object.assign(intent, {
    status: 'succeeded',
    amount_received: intent.amount,
    latest_charge: charge.id,
    last_payment_error: null,
    next_action: null,
    payment_method: method.id,
  } satisfies Partial<PaymentIntent>);
  ctx.emit('payment_intent.succeeded', intent);
}

/** A failed attempt leaves the PaymentIntent waiting for another payment method, as Stripe does. */
function decline(
  ctx: ApiContext,
  intent: PaymentIntent,
  method: PaymentMethod,
  outcome: Extract<CardOutcome, { kind: 'decline' }>,
): StripeApiError {
  const charge = createCharge(ctx, intent, method, outcome);
  Object.assign(intent, {
    status: 'requires_payment_method',
    latest_charge: charge.id,
    last_payment_error: lastPaymentError(method, charge.id, outcome),
    next_action: null,
    payment_method: null,
  } satisfies Partial<PaymentIntent>);
  ctx.emit('payment_intent.payment_failed', intent);
  return new StripeApiError(
    402,
    {
      type: 'card_error',
      code: outcome.code,
      decline_code: outcome.declineCode,
      message: outcome.message,
      param: outcome.param,
      charge: charge.id,
      payment_intent: renderIntent(ctx.store, intent),
      payment_method: structuredClone(method),
    },
    { saved: true },
  );
}

/** Attempts the payment; throws the 402 a decline produces. The caller has stored the intent. */
function confirm(ctx: ApiContext, intent: PaymentIntent, options: ConfirmOptions): void {
  const methodId = typeof intent.payment_method === 'string' ? intent.payment_method : intent.payment_method?.id;
  const method = methodId ? ctx.store.paymentMethods.get(methodId) : undefined;
  if (!method) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
      { code: 'payment_intent_unexpected_state', saved: true },
    );
  }
  const apm = intent.automatic_payment_methods;
  if (apm?.enabled && apm.allow_redirects !== 'never' && !options.returnUrl) {
    throw new StripeApiError(
      400,
      {
        type: 'invalid_request_error',
        message:
          "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. Because some of these payment methods might redirect your customer off of your page, you must provide a `return_url`. If you don't want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.",
        payment_intent: renderIntent(ctx.store, intent),
      },
      { saved: true },
    );
  }
  const outcome = cardFor(ctx.store.testCards.get(method.id) ?? 'pm_card_visa').outcome;
  switch (outcome.kind) {
    case 'succeed':
      succeed(ctx, intent, method);
      return;
    case 'decline':
      throw decline(ctx, intent, method, outcome);
    case 'authenticate':
      // Off-session there is nobody to authenticate: Stripe declines instead.
      if (options.offSession || options.errorOnRequiresAction) {
        throw decline(ctx, intent, method, {
          kind: 'decline',
          code: 'authentication_required',
          declineCode: 'authentication_required',
          message: 'Your card was declined. This transaction requires authentication.',
        });
      }
      Object.assign(intent, {
        status: 'requires_action',
        next_action: nextActionFor(ctx, intent, outcome.flow, options.returnUrl),
        last_payment_error: null,
      } satisfies Partial<PaymentIntent>);
      return;
  }
}

/**
 * Naming payment method types (`allowed_payment_method_types` now, `payment_method_types` in older
 * API versions) turns the Dashboard's list off; otherwise newer versions turn it on.
 */
function automaticPaymentMethodsFor(
  ctx: ApiContext,
  params: FormObject,
  types: string[] | undefined,
): PaymentIntent['automatic_payment_methods'] {
  const given = optionalObject(params, 'automatic_payment_methods');
  if (given) {
    rejectUnknown(given, ['enabled', 'allow_redirects']);
    const enabled = optionalBoolean(given, 'enabled');
    if (enabled === undefined) throw parameterMissing('automatic_payment_methods[enabled]');
    const allowRedirects = optionalEnum(given, 'allow_redirects', ['always', 'never'] as const);
    if (enabled && params.payment_method_types !== undefined) {
      throw invalidRequest(
        'You may only specify one of these parameters: automatic_payment_methods, payment_method_types.',
        {
          param: 'automatic_payment_methods',
        },
      );
    }
    return { allow_redirects: allowRedirects ?? 'always', enabled };
  }
  if (types) return null;
  const version = ctx.request.apiVersion.slice(0, 10);
  return version >= AUTOMATIC_PAYMENT_METHODS_SINCE ? { allow_redirects: 'always', enabled: true } : null;
}

export function createPaymentIntent(ctx: ApiContext, params: FormObject): ApiResult {
  rejectUnknown(params, CREATE_PARAMS);
  const expand = expandParam(params, EXPANDABLE);
  if (optionalNonEmpty(params, 'amount') === undefined) throw parameterMissing('amount');
  const rawCurrency = optionalNonEmpty(params, 'currency');
  if (rawCurrency === undefined) throw parameterMissing('currency');
  const amount = optionalInteger(params, 'amount', 1) as number;
  const currency = rawCurrency.toLowerCase();
  if (!SUPPORTED_CURRENCIES.has(currency)) {
    throw invalidRequest(
      `Invalid currency: ${currency}. Stripe currently supports these currencies: ${[...SUPPORTED_CURRENCIES].join(', ')}`,
      {
        param: 'currency',
      },
    );
  }
  if (amount < minimumAmount(currency)) {
    throw invalidRequest(`Amount must be at least ${formatAmount(minimumAmount(currency), currency)} ${currency}`, {
      param: 'amount',
      code: 'amount_too_small',
    });
  }
  if (amount > MAXIMUM_AMOUNT) {
    throw invalidRequest(`Amount must be no more than ${formatAmount(MAXIMUM_AMOUNT, currency)}`, {
      param: 'amount',
      code: 'amount_too_large',
    });
  }
  const captureMethod = optionalEnum(params, 'capture_method', ['automatic', 'automatic_async', 'manual'] as const);
  if (captureMethod === 'manual') {
    // Not Stripe's answer: the emulator has no capture step, and silently capturing would mislead.
    throw invalidRequest('The Stripe emulator does not support capture_method=manual.', { param: 'capture_method' });
  }
  const allowedTypes = optionalList(params, 'allowed_payment_method_types');
  const types = allowedTypes ?? optionalList(params, 'payment_method_types');
  const automaticPaymentMethods = automaticPaymentMethodsFor(ctx, params, types);
  const shouldConfirm = optionalBoolean(params, 'confirm') ?? false;
  const options: ConfirmOptions = {
    returnUrl: parseReturnUrl(params),
    offSession: parseOffSession(params),
    errorOnRequiresAction: optionalBoolean(params, 'error_on_requires_action') ?? false,
  };
  const metadata = metadataParam(params);
  const description = optionalNonEmpty(params, 'description') ?? null;
  const customer = optionalNonEmpty(params, 'customer') ?? null;
  const receiptEmail = optionalNonEmpty(params, 'receipt_email') ?? null;
  const confirmationMethod =
    optionalEnum(params, 'confirmation_method', ['automatic', 'manual'] as const) ?? 'automatic';
  const setupFutureUsage = optionalEnum(params, 'setup_future_usage', ['off_session', 'on_session'] as const) ?? null;
  const paymentMethodId = optionalNonEmpty(params, 'payment_method');
  // An unknown payment method is a bad parameter (not kept for idempotency); from here on the endpoint is at work.
  const method = paymentMethodId ? resolvePaymentMethod(ctx.store, paymentMethodId) : undefined;

  const id = newId('pi');
  const intent: PaymentIntent = {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: allowedTypes ?? null,
    amount,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: automaticPaymentMethods,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: captureMethod ?? 'automatic_async',
    client_secret: `${id}_secret_${randomToken(25)}`,
    confirmation_method: confirmationMethod,
    created: nowSeconds(),
    currency,
    customer,
    customer_account: optionalNonEmpty(params, 'customer_account') ?? null,
    description,
    excluded_payment_method_types: optionalList(params, 'excluded_payment_method_types') ?? null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: method?.id ?? null,
    payment_method_configuration_details: null,
    payment_method_options: {
      card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' },
    },
    payment_method_types: types ?? ['card'],
    payment_record: null,
    processing: null,
    receipt_email: receiptEmail,
    review: null,
    setup_future_usage: setupFutureUsage,
    shipping: null,
    source: null,
    statement_descriptor: optionalNonEmpty(params, 'statement_descriptor') ?? null,
    statement_descriptor_suffix: optionalNonEmpty(params, 'statement_descriptor_suffix') ?? null,
    status: method ? 'requires_confirmation' : 'requires_payment_method',
    transfer_data: null,
    transfer_group: optionalNonEmpty(params, 'transfer_group') ?? null,
  };
  ctx.store.paymentIntents.set(id, intent);
  if (shouldConfirm) confirm(ctx, intent, options);
  return { status: 200, body: renderIntent(ctx.store, intent, expand) };
}

export function confirmPaymentIntent(ctx: ApiContext, id: string, params: FormObject): ApiResult {
  rejectUnknown(params, CONFIRM_PARAMS);
  const expand = expandParam(params, EXPANDABLE);
  const intent = findIntent(ctx.store, id);
  const options: ConfirmOptions = {
    returnUrl: parseReturnUrl(params),
    offSession: parseOffSession(params),
    errorOnRequiresAction: optionalBoolean(params, 'error_on_requires_action') ?? false,
  };
  if (intent.status === 'succeeded') {
    throw invalidRequest(
      'You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.',
      {
        code: 'payment_intent_unexpected_state',
        saved: true,
      },
    );
  }
  if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(intent.status)) {
    throw invalidRequest(NOT_CONFIRMABLE(intent.status), { code: 'payment_intent_unexpected_state', saved: true });
  }
  const paymentMethodId = optionalNonEmpty(params, 'payment_method');
  if (paymentMethodId) intent.payment_method = resolvePaymentMethod(ctx.store, paymentMethodId).id;
  if (options.returnUrl === undefined && intent.next_action?.type === 'redirect_to_url')
    options.returnUrl = intent.next_action.redirect_to_url.return_url;
  confirm(ctx, intent, options);
  return { status: 200, body: renderIntent(ctx.store, intent, expand) };
}

export function cancelPaymentIntent(ctx: ApiContext, id: string, params: FormObject): ApiResult {
  rejectUnknown(params, CANCEL_PARAMS);
  const expand = expandParam(params, EXPANDABLE);
  const intent = findIntent(ctx.store, id);
  const reason = optionalEnum(params, 'cancellation_reason', [
    'duplicate',
    'fraudulent',
    'requested_by_customer',
    'abandoned',
  ] as const);
  const cancellable = [
    'requires_payment_method',
    'requires_capture',
    'requires_confirmation',
    'requires_action',
    'processing',
  ];
  if (!cancellable.includes(intent.status)) {
    throw invalidRequest(
      `You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${cancellable.join(', ')}.`,
      { code: 'payment_intent_unexpected_state', saved: true },
    );
  }
  Object.assign(intent, {
    status: 'canceled',
    canceled_at: nowSeconds(),
    cancellation_reason: reason ?? null,
    next_action: null,
  } satisfies Partial<PaymentIntent>);
  ctx.emit('payment_intent.canceled', intent);
  return { status: 200, body: renderIntent(ctx.store, intent, expand) };
}

export function retrievePaymentIntent(ctx: ApiContext, id: string, query: FormObject): ApiResult {
  rejectUnknown(query, ['client_secret', 'expand']);
  const expand = expandParam(query, EXPANDABLE);
  return { status: 200, body: renderIntent(ctx.store, findIntent(ctx.store, id), expand) };
}

export function listPaymentIntents(ctx: ApiContext, query: FormObject): ApiResult {
  rejectUnknown(query, LIST_PARAMS);
  const expand = expandParam(
    query,
    EXPANDABLE.map((field) => `data.${field}`),
  ).map((field) => field.slice('data.'.length));
  const customer = optionalNonEmpty(query, 'customer');
  const all = [...ctx.store.paymentIntents.values()]
    .reverse()
    .filter((intent) => !customer || intent.customer === customer);
  const page = paginate(all, listOptions(query), '/v1/payment_intents', 'payment_intent');
  return { status: 200, body: { ...page, data: page.data.map((intent) => renderIntent(ctx.store, intent, expand)) } };
}

/**
 * The customer finishing (or failing) 3-D Secure: Stripe then charges the card and tells us by
 * event only, since no API request of ours is involved.
 */
export function completeAction(ctx: ApiContext, id: string, outcome: 'succeeded' | 'failed'): PaymentIntent {
  const intent = ctx.store.paymentIntents.get(id);
  if (!intent) throw resourceMissing('payment_intent', id, 'intent');
  if (intent.status !== 'requires_action') {
    throw invalidRequest(
      `PaymentIntent ${id} has status ${intent.status}; only requires_action can complete an action.`,
      {
        code: 'payment_intent_unexpected_state',
      },
    );
  }
  const methodId = typeof intent.payment_method === 'string' ? intent.payment_method : intent.payment_method?.id;
  const method = methodId ? ctx.store.paymentMethods.get(methodId) : undefined;
  if (!method) throw invalidRequest(`PaymentIntent ${id} has no payment method.`);
  if (outcome === 'succeeded') {
    succeed(ctx, intent, method);
  } else {
    Object.assign(intent, {
      status: 'requires_payment_method',
      next_action: null,
      payment_method: null,
      last_payment_error: {
        code: 'payment_intent_authentication_failure',
        doc_url: docUrl('payment_intent_authentication_failure'),
        message:
          'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
        payment_method: structuredClone(method),
        type: 'invalid_request_error',
      },
    } satisfies Partial<PaymentIntent>);
    ctx.emit('payment_intent.payment_failed', intent);
  }
  return renderIntent(ctx.store, intent);
}
