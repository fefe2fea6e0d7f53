import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { ReadableBy } from '../../../lib/permissions';

export enum IndexNowSubmissionStatus {
  PENDING = 'PENDING',
  RETRYING = 'RETRYING',
  SUBMITTED = 'SUBMITTED',
  FAILED = 'FAILED',
}
registerEnumType(IndexNowSubmissionStatus, {
  name: 'IndexNowSubmissionStatus',
  description: "Where the listing's latest change stands with IndexNow.",
  valuesConfig: {
    PENDING: { description: 'Queued: goes out with the next batch for its host (within seconds).' },
    RETRYING: {
      description: 'The last attempt failed (an outage, or a 429 holding the host); it is tried again later.',
    },
    SUBMITTED: { description: 'IndexNow accepted it at lastSubmittedAt (accepted means received, not indexed).' },
    FAILED: { description: 'IndexNow refused it repeatedly (a bad key or URL); an admin can resubmit it.' },
  },
});

/** The seller's and admins' view (seo.read), in every payload: null for others. */
const seoReader = () => ReadableBy<ListingSeo>('seo.read', (seo) => seo.sellerId);

@ObjectType({
  description:
    'What search engines were told about the listing: its canonical URL and its IndexNow push. For the seller and admins (null for others).',
})
export class ListingSeo {
  /** Who may read it; not in the schema. */
  sellerId: string | null;

  @seoReader()
  @Field(() => String, { nullable: true, description: "The listing's canonical URL on SayPro's site, as pushed." })
  url: string | null;

  @seoReader()
  @Field(() => Date, {
    nullable: true,
    description: "When IndexNow last accepted this listing's URL; null before the first submission.",
  })
  lastSubmittedAt: Date | null;

  @seoReader()
  @Field(() => IndexNowSubmissionStatus, {
    nullable: true,
    description: 'Where its latest change stands with IndexNow; null while it was never pushed (never public).',
  })
  submissionStatus: IndexNowSubmissionStatus | null;
}
