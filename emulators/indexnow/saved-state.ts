import { z } from 'zod';
import { parseWith } from '../shared/state-file';
import type { ReceivedSubmission } from './page';

/** The format the emulator writes; raise it when the shape changes (and read the old one). */
export const STATE_VERSION = 1;

/** What survives a restart: the submissions it accepted (what a search engine would crawl). Requests and faults are this run's only. */
export interface SavedState {
  submissions: ReceivedSubmission[];
}

const savedStateSchema: z.ZodType<SavedState> = z.object({
  submissions: z.array(
    z.object({
      id: z.number().int().positive(),
      at: z.string(),
      method: z.enum(['GET', 'POST']),
      host: z.string(),
      key: z.string(),
      keyLocation: z.string().nullable(),
      urlList: z.array(z.string()),
      status: z.union([z.literal(200), z.literal(202)]),
    }),
  ),
});

export const parseSavedState = parseWith(savedStateSchema);
