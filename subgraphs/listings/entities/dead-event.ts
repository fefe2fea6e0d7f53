import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import type { DeadLetter } from '../../../lib/events';

@ObjectType({
  description:
    'An event a consumer gave up on after its retries (a dead letter). Admins replay it with replayDeadEvents once the cause is fixed.',
})
export class DeadEvent {
  @Field(() => ID, { description: 'Dead-letter id: pass it to replayDeadEvents.' })
  id: string;

  @Field({ description: 'The consumer that failed it, e.g. `crm.user-changes` or `email.mail-triggers`.' })
  queue: string;

  @Field({ description: 'Event name, e.g. `payment.succeeded`.' })
  eventName: string;

  @Field(() => ID, { description: 'Event id (consumers are idempotent on it, so a replay never acts twice).' })
  eventId: string;

  @Field({ description: 'The service that published it.' })
  source: string;

  @Field({ description: 'When it was published.' })
  occurredAt: Date;

  @Field({ description: 'When the consumer gave up on it.' })
  failedAt: Date;

  @Field(() => String, { nullable: true, description: 'The last failure: error class and message.' })
  error: string | null;

  @Field(() => GraphQLJSONObject, {
    description: 'The event payload as published (may hold personal data: admins only).',
  })
  data: Record<string, unknown>;
}

export function toDeadEvent(letter: DeadLetter): DeadEvent {
  return {
    id: letter.id,
    queue: letter.queue,
    eventName: letter.event.name,
    eventId: letter.event.id,
    source: letter.event.source,
    occurredAt: new Date(letter.event.occurredAt),
    failedAt: letter.failedAt,
    error: letter.error ? [letter.error.name, letter.error.message].filter(Boolean).join(': ') : null,
    data: letter.event.data as unknown as Record<string, unknown>,
  };
}
