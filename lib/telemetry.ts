/**
 * Imported first by every entry point: @apollo/gateway reads this when it loads and would otherwise
 * send usage telemetry. Nothing leaves the machine unless a user configures it.
 */
process.env.APOLLO_TELEMETRY_DISABLED = 'true';
export {};
