import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { ListingsContext } from '../context';
import { ApiKey, ApiKeyScope, CreatedApiKey, toApiKey } from '../entities/api-key';

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Query(() => [ApiKey], { description: 'Every API key, newest first, without secrets. Admins only.' })
  async apiKeys(@Ctx() ctx: ListingsContext): Promise<ApiKey[]> {
    return (await ctx.apiKeys.list(ctx.viewer)).map(toApiKey);
  }

  @Mutation(() => CreatedApiKey, {
    description:
      'Creates an API key with these scopes and returns its secret, once. Admins only (signed in, not with a key).',
  })
  async createApiKey(
    @Arg('name', { description: 'What the key is for (3–100 characters).' }) name: string,
    @Arg('scopes', () => [ApiKeyScope], { description: 'What it may do (at least one).' }) scopes: ApiKeyScope[],
    @Ctx() ctx: ListingsContext,
  ): Promise<CreatedApiKey> {
    const { row, secret } = await ctx.apiKeys.create(ctx.viewer, name, scopes);
    return { apiKey: toApiKey(row), secret };
  }

  @Mutation(() => ApiKey, {
    description:
      'Revokes an API key for good (the gateway stops accepting it within API_KEY_CACHE_SECONDS). Admins only.',
  })
  async revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: ListingsContext): Promise<ApiKey> {
    return toApiKey(await ctx.apiKeys.revoke(ctx.viewer, id));
  }
}
