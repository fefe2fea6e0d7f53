import { ANONYMOUS } from '../../../lib/auth';
import { InternalQueryError, type InternalClient } from '../../../lib/entity-client';
import type { RouteHandler } from '../../../lib/http';
import type { Logger } from '../../../lib/logger';
import { createMailLinkRoute } from './html-page';

const CONFIRM = 'mutation ConfirmEmailPage($token: String!) { confirmEmail(token: $token) { id } }';

/**
 * /email/confirm?token=…: the link in the welcome and confirmation mail. GET shows a button (a
 * link scanner opening it confirms nothing); POST runs listings' `confirmEmail`, the same as the
 * mutation, with no viewer: the token is the proof.
 */
export function createConfirmEmailRoute(deps: { listingsQuery: InternalClient; logger: Logger }): RouteHandler {
  return createMailLinkRoute({
    title: 'Confirm your SayPro email address',
    intro: 'Confirm that this address is yours, and SayPro mail goes to it from now on.',
    button: 'Confirm',
    act: async (token) => {
      try {
        await deps.listingsQuery(CONFIRM, { token }, ANONYMOUS);
      } catch (err) {
        if (!(err instanceof InternalQueryError)) throw err;
        deps.logger.info({ codes: err.codes }, 'email confirmation link refused');
        return {
          status: 400,
          title: 'This link is not valid',
          body: '<p>It may have expired, or be for an earlier address. Change your address in your account to get a new link.</p>',
        };
      }
      return {
        status: 200,
        title: 'Your address is confirmed',
        body: '<p>Thank you. SayPro mail goes to this address from now on.</p>',
      };
    },
  });
}
