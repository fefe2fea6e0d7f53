import { registerEnumType } from 'type-graphql';

export enum ListingStatus {
  DRAFT = 'DRAFT',
  PENDING_PAYMENT = 'PENDING_PAYMENT',
  ACTIVE = 'ACTIVE',
  EXPIRED = 'EXPIRED',
  WITHDRAWN = 'WITHDRAWN',
}
registerEnumType(ListingStatus, {
  name: 'ListingStatus',
  description: 'Where a listing is in its lifecycle.',
  valuesConfig: {
    DRAFT: { description: 'Saved by the seller, not yet submitted; only the seller and admins see it.' },
    PENDING_PAYMENT: { description: 'Submitted and waiting for its posting fee to be paid.' },
    ACTIVE: { description: 'Published: visible to everyone until it expires.' },
    EXPIRED: { description: 'Was active; its publication period ended.' },
    WITHDRAWN: { description: 'Taken down by the seller or an admin. Final: it cannot be edited or charged.' },
  },
});

/** The shared category list as a GraphQL enum (lib/categories.ts is the one list). */
export { ListingCategory } from '../../../lib/shared-types';
