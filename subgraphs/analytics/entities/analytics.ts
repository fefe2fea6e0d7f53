import { Field, ID, Int, ObjectType } from 'type-graphql';

@ObjectType({
  description:
    "A user's choice about analytics: whether their sign-up, published listings, payments and refunds reach Google Analytics (under a pseudonymous id, never their name or email).",
})
export class AnalyticsConsent {
  @Field(() => ID, { description: 'The SayPro user id.' })
  userId: string;

  @Field({ description: 'Whether events about the user are sent to Google Analytics.' })
  granted: boolean;

  @Field(() => Date, {
    nullable: true,
    description:
      'When the user (or an admin for them) decided; null while the default applies (ANALYTICS_CONSENT_DEFAULT).',
  })
  decidedAt: Date | null;
}

@ObjectType({ description: "One message of GA4's validation server (/debug/mp/collect), as GA4 words it." })
export class Ga4ValidationMessage {
  @Field({ description: 'The path of the field it is about, e.g. events.' })
  fieldPath: string;

  @Field({ description: "GA4's description of the problem." })
  description: string;

  @Field({ description: "GA4's validation code, e.g. NAME_INVALID, VALUE_OUT_OF_BOUNDS." })
  validationCode: string;
}

@ObjectType({ description: 'One Measurement Protocol request: the events of one pseudonymous client id.' })
export class Ga4Delivery {
  @Field(() => ID, { description: 'Our id of the request.' })
  id: string;

  @Field(() => [String], { description: 'The GA4 event names it carried, in order.' })
  eventNames: string[];

  @Field(() => Int, { nullable: true, description: "GA4's HTTP status; null when no answer came." })
  status: number | null;

  @Field({ description: 'Sent to the validation server (GA4_VALIDATE): validated, not recorded.' })
  validation: boolean;

  @Field(() => [Ga4ValidationMessage], { description: "The validation server's messages (empty when all was valid)." })
  validationMessages: Ga4ValidationMessage[];

  @Field(() => String, { nullable: true, description: 'Why it failed, when it did.' })
  error: string | null;

  @Field({ description: 'When it was sent.' })
  sentAt: Date;
}

@ObjectType({ description: 'How the delivery of events to Google Analytics stands.' })
export class AnalyticsBacklog {
  @Field(() => Int, { description: 'Events waiting to be sent (or retried after a failure).' })
  queued: number;

  @Field(() => Int, {
    description: 'Events of users who have not decided on consent yet: sent if they agree in time, else dropped.',
  })
  held: number;

  @Field(() => Int, {
    description: 'Events that cannot be sent (refused by GA4, or older than the 72 hours it accepts).',
  })
  failed: number;

  @Field({ description: 'Age of the oldest queued event, seconds (0 when none waits).' })
  oldestQueuedAgeSeconds: number;

  @Field({ description: 'Whether events go to the validation server (GA4_VALIDATE) instead of being recorded.' })
  validation: boolean;

  @Field(() => [Ga4ValidationMessage], {
    description: 'The latest validation messages GA4 answered (empty when none).',
  })
  lastValidationMessages: Ga4ValidationMessage[];

  @Field(() => [Ga4Delivery], { description: 'The latest requests, newest first.' })
  recentDeliveries: Ga4Delivery[];
}
