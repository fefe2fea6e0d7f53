import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { SyncJobRow } from '../db/schema';

export enum CrmSyncJobState {
  RUNNING = 'RUNNING',
  WAITING = 'WAITING',
  COMPLETED = 'COMPLETED',
}
registerEnumType(CrmSyncJobState, {
  name: 'CrmSyncJobState',
  description: 'Where a bulk CRM sync stands.',
  valuesConfig: {
    RUNNING: { description: 'Syncing pages of 100 users, paced to HubSpot’s rate limit.' },
    WAITING: {
      description:
        'HubSpot or a service is unavailable: the job tries the same page again at retryAt, nobody is skipped.',
    },
    COMPLETED: { description: 'Every user was processed.' },
  },
});

@ObjectType({ description: 'A bulk sync of every user to the CRM (syncAllUsersToCrm). Resumes after restarts.' })
export class CrmSyncJob {
  @Field(() => ID, { description: 'Job id.' })
  id: string;

  @Field(() => CrmSyncJobState, { description: 'Where the job stands.' })
  state: CrmSyncJobState;

  @Field(() => Int, { description: 'Users to process (grows if users register while the job runs).' })
  total: number;

  @Field(() => Int, { description: 'Users processed so far, synced or not.' })
  done: number;

  @Field(() => Int, {
    description:
      'Processed users that did not sync (no email, or refused by HubSpot); the automatic sync keeps retrying them and crmFailedSyncs lists those it gives up on.',
  })
  failed: number;

  @Field({ description: 'When an admin started the job.' })
  startedAt: Date;

  @Field(() => Date, { nullable: true, description: 'When the last user was processed.' })
  finishedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'While WAITING: when the job tries again.' })
  retryAt: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the job is waiting, if it is.' })
  lastError: string | null;
}

export function toCrmSyncJob(row: SyncJobRow, now = new Date()): CrmSyncJob {
  const waiting = row.state === 'RUNNING' && row.retryAt !== null && row.retryAt > now;
  return {
    id: row.id,
    state:
      row.state === 'COMPLETED'
        ? CrmSyncJobState.COMPLETED
        : waiting
          ? CrmSyncJobState.WAITING
          : CrmSyncJobState.RUNNING,
    total: row.total,
    done: row.done,
    failed: row.failed,
    startedAt: row.createdAt,
    finishedAt: row.finishedAt,
    retryAt: waiting ? row.retryAt : null,
    lastError: row.lastError,
  };
}
