import { createLogger } from '../../lib/logger';
import { createSendGridEmulator } from './server';
import { loadEnvFile } from '../../lib/config';

// The same .env as the services (ports, keys): what the environment sets wins.
loadEnvFile();

/**
 * The SendGrid emulator on its own: `node dist/emulators/sendgrid/main.js`.
 * SENDGRID_EMULATOR_PORT (default 4012), SENDGRID_EVENT_WEBHOOK_URL (optional), LOG_LEVEL (default info),
 * SENDGRID_EMULATOR_STATE_FILE (a JSON file that keeps the mailbox and the signing key across restarts; memory when unset).
 */
async function main(): Promise<void> {
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', service: 'sendgrid-emulator' });
  const port = Number(process.env.SENDGRID_EMULATOR_PORT ?? 4012);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`SENDGRID_EMULATOR_PORT must be a port number, got ${process.env.SENDGRID_EMULATOR_PORT}`);
  const eventWebhookUrl = process.env.SENDGRID_EVENT_WEBHOOK_URL || undefined;

  const emulator = createSendGridEmulator({
    eventWebhookUrl,
    stateFile: process.env.SENDGRID_EMULATOR_STATE_FILE || undefined,
    logger,
  });
  const base = await emulator.listen(port, '127.0.0.1');
  logger.info(
    { baseUrl: base, eventWebhookUrl: eventWebhookUrl ?? null, publicKey: emulator.publicKey() },
    'SendGrid emulator listening',
  );
  process.stdout.write(
    `SendGrid emulator mailbox: ${base}/\nEvent webhook verification key (base64 DER): ${emulator.publicKey()}\n`,
  );

  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'SendGrid emulator closing');
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'SendGrid emulator failed to close');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`SendGrid emulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
