/** Currencies Stripe accepts for card payments (ISO 4217, lower case as Stripe stores them). */
export const SUPPORTED_CURRENCIES: ReadonlySet<string> = new Set(
  (
    'usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf ' +
    'clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils ' +
    'inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk ' +
    'mxn myr mzn nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp ' +
    'sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw'
  ).split(' '),
);

/**
 * Stripe's minimum charge amounts in minor units, for the currencies we are likely to use; other
 * currencies get 50, which is Stripe's figure for most of them.
 */
const MINIMUM_AMOUNT: Record<string, number> = {
  usd: 50,
  eur: 50,
  gbp: 30,
  cad: 50,
  aud: 50,
  chf: 50,
  nzd: 50,
  sgd: 50,
  jpy: 50,
  zar: 50,
};

export const minimumAmount = (currency: string): number => MINIMUM_AMOUNT[currency] ?? 50;

/** The largest amount a PaymentIntent accepts (eight digits). */
export const MAXIMUM_AMOUNT = 99_999_999;

/** `1234, 'usd'` → `$12.34`, as Stripe writes amounts in its messages (the project's one currency table). */
export { formatMoney as formatAmount } from '../../lib/currencies';
