/**
 * The gateway engine this run of the suite tests: `GATEWAY_ENGINE=hive npm run test:gateway-engines`
 * (and .ci/run) runs the gateway-level tests again on Hive's engine; unset, the default (apollo).
 */
export const ENGINE_UNDER_TEST: 'apollo' | 'hive' = process.env.GATEWAY_ENGINE === 'hive' ? 'hive' : 'apollo';
