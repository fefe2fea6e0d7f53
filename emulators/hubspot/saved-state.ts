import { z } from 'zod';
import { parseWith } from '../shared/state-file';
import type { SavedContacts } from './contacts';
import type { PropertyDefinition } from './properties';

/** The format the emulator writes; raise it when the shape changes (and read the old one). */
export const STATE_VERSION = 1;

/**
 * What survives a restart: contacts with their ids (the next id too, so none is reused) and every
 * property definition. Rate-limit windows, the request log and faults are this run's only.
 */
export interface SavedState extends SavedContacts {
  properties: PropertyDefinition[];
}

const savedStateSchema: z.ZodType<SavedState> = z.object({
  nextId: z.number().int().positive(),
  contacts: z.array(
    z.object({
      id: z.string().regex(/^\d+$/, 'a contact id is numeric'),
      properties: z.record(z.string()),
      createdAt: z.number(),
      updatedAt: z.number(),
    }),
  ),
  // Checked as far as lookups need; the rest was written by this code.
  properties: z.array(
    z.object({ name: z.string().min(1), type: z.string() }).passthrough() as unknown as z.ZodType<PropertyDefinition>,
  ),
});

export const parseSavedState = parseWith(savedStateSchema);
