import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

export interface GraphResult<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
  headers: Headers;
}

export interface CallOptions {
  token?: string;
  headers?: Record<string, string>;
}

/** Calls the graph over real HTTP with a typed document from the generated client. */
export function createGraphClient(url: string) {
  return async function execute<TResult, TVariables>(
    document: TypedDocumentNode<TResult, TVariables>,
    ...[variables, options]: TVariables extends Record<string, never>
      ? [TVariables?, CallOptions?]
      : [TVariables, CallOptions?]
  ): Promise<GraphResult<TResult>> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options?.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options?.headers,
      },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await res.json()) as { data?: TResult | null; errors?: GraphQLFormattedError[] };
    return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
  };
}
export type GraphClient = ReturnType<typeof createGraphClient>;

/** The data of a call that must succeed; fails the test with the errors otherwise. */
export function dataOf<T>(result: GraphResult<T>): T {
  if (result.errors?.length || !result.data) throw new Error(`GraphQL call failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/** The single error of a call that must fail. */
export function errorOf(result: GraphResult<unknown>): GraphQLFormattedError & { extensions: Record<string, unknown> } {
  if (!result.errors?.length) throw new Error(`expected an error, got data ${JSON.stringify(result.data)}`);
  return result.errors[0] as GraphQLFormattedError & { extensions: Record<string, unknown> };
}
