import pino from 'pino';
import pretty from 'pino-pretty';
import { ecsFormat } from '@elastic/ecs-pino-format';
import { logTraceFields } from './tracing';

export type Logger = pino.Logger;

/** Paths that may carry secrets; pino replaces their values before anything is written. */
export const REDACT_PATHS = [
  ...['authorization', 'Authorization', 'password', 'token', 'secret', 'apiKey', 'accessToken', 'card'].flatMap(
    (key) => [key, `*.${key}`],
  ),
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["x-saypro-viewer"]',
  '*.headers["x-api-key"]',
  'headers["x-api-key"]',
  'headers["x-saypro-viewer"]',
  'req.headers.cookie',
  'config.JWT_SECRET',
  'config.INTERNAL_SECRET',
  'config.OTEL_EXPORTER_OTLP_HEADERS',
];

export interface LoggerOptions {
  level: string;
  /** Service name on every line; embedded mode leaves it out and names each service in a child logger. */
  service?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
  /**
   * `json`: pino's lines; `ecs`: Elastic Common Schema names (`@timestamp`, `log.level`, `message`,
   * `service.name`, `trace.id`); `pretty`: one readable, coloured line each, for a person at a
   * terminal. Unset: `pretty` when lines go to a terminal, `json` otherwise (files, pipes, collectors).
   */
  format?: LogFormat;
}

export type LogFormat = 'json' | 'ecs' | 'pretty';

/** The format when none is configured: readable in a terminal, JSON for everything that reads lines. */
export const defaultLogFormat = (isTerminal = process.stdout.isTTY === true): LogFormat =>
  isTerminal ? 'pretty' : 'json';

export function createLogger({ level, service, destination, format }: LoggerOptions): Logger {
  const chosen = format ?? (destination ? 'json' : defaultLogFormat());
  const ecs = chosen === 'ecs';
  if (chosen === 'pretty') {
    // Synchronous, in this thread (no transport worker): lines keep their order with the banner.
    destination = pretty({
      colorize: !destination,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
      ...(destination ? { destination } : {}),
    });
  }
  return pino(
    {
      level,
      base: service ? { service } : {},
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // The active span's ids on every line, so a log line leads to its trace and back.
      mixin: () => logTraceFields(ecs),
      ...(ecs
        ? ecsOptions()
        : { timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label: string) => ({ level: label }) } }),
    },
    destination,
  );
}

/** ecs-pino-format's options, with our `service` binding (a string) moved to ECS's `service.name`. */
function ecsOptions(): pino.LoggerOptions {
  const options = ecsFormat({ convertErr: true });
  const bindings = options.formatters!.bindings!;
  return {
    ...options,
    formatters: {
      ...options.formatters,
      bindings: ({ service, ...rest }) => bindings(service === undefined ? rest : { ...rest, 'service.name': service }),
    },
  };
}
