import type { RouteHandler } from '../../../lib/http';
import type { Logger } from '../../../lib/logger';
import type { EmailService } from '../domain/email.service';
import { createMailLinkRoute } from './html-page';

/**
 * /email/unsubscribe?token=…: GET shows a confirmation button (link scanners must not unsubscribe
 * anyone); POST unsubscribes, which is also RFC 8058's one-click `List-Unsubscribe-Post`.
 */
export function createUnsubscribeRoute(deps: { email: EmailService; logger: Logger }): RouteHandler {
  return createMailLinkRoute({
    title: 'Unsubscribe from SayPro marketing mail',
    intro:
      'You will no longer receive promotions or new-listing alerts at this address. Receipts and account mail still arrive.',
    button: 'Unsubscribe',
    act: async (token) => {
      const outcome = await deps.email.unsubscribe(token);
      if (outcome === 'invalid')
        return {
          status: 400,
          title: 'This link is not valid',
          body: '<p>Use the link from a SayPro mail, or change your preferences in your account.</p>',
        };
      if (outcome === 'expired')
        return {
          status: 410,
          title: 'This link has expired',
          body: '<p>Use the link in a recent SayPro mail, or change your preferences in your account.</p>',
        };
      if (outcome === 'already')
        return {
          status: 200,
          title: 'This link was already used',
          body: '<p>It unsubscribed you once and does nothing more. Change your preferences in your account.</p>',
        };
      return {
        status: 200,
        title: 'You are unsubscribed',
        body: '<p>You will receive no more marketing mail from SayPro. You can opt in again in your account preferences.</p>',
      };
    },
  });
}
