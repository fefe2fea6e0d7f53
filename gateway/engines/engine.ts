import type { GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from '../context';

/** One operation for an engine to run: the front door admitted it, or the gateway runs it itself (REST facade). */
export interface EngineOperation {
  query: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  extensions?: Record<string, unknown>;
}

/** An engine's answer: the GraphQL result (errors already shaped for clients) and its HTTP status and headers. */
export interface EngineResult {
  result: { data?: unknown; errors?: readonly GraphQLFormattedError[]; extensions?: Record<string, unknown> };
  /** 200 when unset; 400 for a document the engine refused before executing. */
  status?: number;
  headers?: Iterable<[string, string]>;
}

/**
 * What executes operations behind the front door: validation, query planning, subgraph fetches
 * (each with the viewer header signed for that subgraph) and the merge. Everything before that
 * (limits, sign-in, rate limits, persisted operations) is the front door's and the same for all.
 */
export interface GatewayEngine {
  readonly name: 'apollo' | 'hive';
  execute(operation: EngineOperation, context: GatewayContext): Promise<EngineResult>;
  stop(): Promise<void>;
}
