import { randomBytes } from 'node:crypto';
import { signEmailConfirmation } from '../../lib/email-confirmation';
import {
  ConfirmEmailDocument,
  CreateListingDocument,
  RegisterUserDocument,
  type CreateListingInput,
} from '../generated/graphql';
import { dataOf } from './graph-client';
import type { TestStack } from './stack';

export interface TestUser {
  id: string;
  name: string;
  email: string;
  token: string;
}

/**
 * Registers a user through the gateway, confirms their address (as the link in their welcome mail
 * would; `confirmed: false` leaves it unconfirmed) and mints a token for them.
 */
export async function registerUser(
  stack: TestStack,
  name = 'Test User',
  roles: Array<'user' | 'admin'> = ['user'],
  options: { confirmed?: boolean } = {},
): Promise<TestUser> {
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}.${randomBytes(4).toString('hex')}@example.com`;
  const { registerUser: user } = dataOf(await stack.graph(RegisterUserDocument, { input: { name, email } }));
  if (options.confirmed !== false) await confirmEmail(stack, user.id, email);
  return { id: user.id, name, email, token: await stack.token(user.id, roles) };
}

/** Confirms the user's current address with a link signed as the email service signs it. */
export async function confirmEmail(stack: TestStack, userId: string, email: string) {
  return dataOf(
    await stack.graph(ConfirmEmailDocument, {
      token: signEmailConfirmation(userId, email, stack.config.INTERNAL_SECRET),
    }),
  ).confirmEmail;
}

export const listingInput = (overrides: Partial<CreateListingInput> = {}): CreateListingInput => ({
  title: 'Mountain bike',
  description: 'Hardtail, 29 inch wheels, new brakes.',
  price: { amount: 25_000, currency: 'USD' },
  category: 'VEHICLES',
  location: 'Cape Town',
  ...overrides,
});

export async function createListing(stack: TestStack, seller: TestUser, overrides: Partial<CreateListingInput> = {}) {
  return dataOf(await stack.graph(CreateListingDocument, { input: listingInput(overrides) }, { token: seller.token }))
    .createListing;
}
