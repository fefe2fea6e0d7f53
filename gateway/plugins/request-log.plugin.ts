import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context';

/** One log line per GraphQL request: operation, duration, error codes. Never the variables. */
export function requestLogPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operationName, errors, contextValue: ctx, response }) {
          const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
          const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          (ctx ?? contextValue).logger.info(
            { operation: operationName ?? null, durationMs: Math.round(durationMs * 10) / 10, status: response.http.status ?? 200, errors: codes.length ? codes : undefined },
            'graphql request',
          );
        },
      };
    },
  };
}
