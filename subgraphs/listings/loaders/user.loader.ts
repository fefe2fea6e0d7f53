import { createByIdLoader } from '../../../lib/loaders';
import type { UserRow } from '../db/schema';
import type { UsersService } from '../domain/users.service';

/** Users by id, batched: a page of listings costs one query for all its sellers. */
export const createUserLoader = (users: UsersService) => createByIdLoader<UserRow>('User', (ids) => users.byIds(ids));
