import pino from 'pino';

export type Logger = pino.Logger;

/** Paths that may carry secrets; pino replaces their values before anything is written. */
export const REDACT_PATHS = [
  ...['authorization', 'Authorization', 'password', 'token', 'secret', 'apiKey', 'accessToken', 'card'].flatMap((key) => [key, `*.${key}`]),
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["x-saypro-viewer"]',
  '*.headers["x-api-key"]',
  'headers["x-api-key"]',
  'headers["x-saypro-viewer"]',
  'req.headers.cookie',
  'config.JWT_SECRET',
  'config.INTERNAL_SECRET',
];

export interface LoggerOptions {
  level: string;
  /** Service name on every line; embedded mode leaves it out and names each service in a child logger. */
  service?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger({ level, service, destination }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: service ? { service } : {},
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
