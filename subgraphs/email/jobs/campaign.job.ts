import type { EventBus } from '../../../lib/events';
import { CAMPAIGN_QUEUE, type EmailService } from '../domain/email.service';

/**
 * Works the campaign paging jobs: each queues one page of a campaign's recipients and, with it,
 * the job for the next page. A process that dies mid-page has its job redelivered within the lease.
 */
export function workCampaignPages(deps: { bus: EventBus; email: EmailService }): Promise<void> {
  return deps.bus.work<{ campaignId: string }>(
    CAMPAIGN_QUEUE,
    async ({ campaignId }) => void (await deps.email.queueCampaignPage(campaignId)),
  );
}
