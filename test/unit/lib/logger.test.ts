import { Writable } from 'node:stream';
import { createLogger, defaultLogFormat } from '../../../lib/logger';

function capture(level = 'info', service?: string) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level, service, destination }), lines };
}

describe('createLogger', () => {
  it('redacts authorization headers, configured secrets and passwords', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        headers: { authorization: 'Bearer abc', 'x-saypro-viewer': 'v1.viewer-claims.viewer-sig' },
        config: { JWT_SECRET: 'x-jwt-secret-value', INTERNAL_SECRET: 'x-internal-secret-value', HOST: '127.0.0.1' },
        user: { password: 'p-hunter2', name: 'Ada' },
      },
      'request',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    for (const secret of [
      'abc',
      'viewer-claims',
      'viewer-sig',
      'x-jwt-secret-value',
      'x-internal-secret-value',
      'hunter2',
    ])
      expect(line).not.toContain(secret);
    expect(JSON.parse(line)).toMatchObject({
      level: 'info',
      msg: 'request',
      headers: { authorization: '[redacted]', 'x-saypro-viewer': '[redacted]' },
      config: { JWT_SECRET: '[redacted]', INTERNAL_SECRET: '[redacted]', HOST: '127.0.0.1' },
      user: { password: '[redacted]', name: 'Ada' },
    });
  });

  it('redacts the same values one level down (req.headers, nested credentials)', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        req: { headers: { authorization: 'Bearer req-token-1', cookie: 'sid=cookie-value-1' } },
        provider: {
          apiKey: 'sk_test_key1',
          token: 'tok-value-1',
          secret: 'whsec-value-1',
          accessToken: 'access-value-1',
          card: { number: '4242424242424242' },
        },
      },
      'call',
    );
    for (const secret of [
      'req-token-1',
      'cookie-value-1',
      'sk_test_key1',
      'tok-value-1',
      'whsec-value-1',
      'access-value-1',
      '4242424242424242',
    ]) {
      expect(lines[0]).not.toContain(secret);
    }
  });

  it('writes JSON lines with a label level, an ISO time and the service name', () => {
    const { logger, lines } = capture('info', 'listings');
    logger.debug('hidden');
    logger.warn({ n: 1 }, 'shown');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'warn', service: 'listings', n: 1, msg: 'shown' });
    expect(new Date(record.time as string).toISOString()).toBe(record.time);
  });

  it('leaves the service out when none is given', () => {
    const { logger, lines } = capture();
    logger.info('x');
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('service');
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('pid');
  });
});

describe('the pretty format', () => {
  it('is the default at a terminal and JSON anywhere else', () => {
    expect(defaultLogFormat(true)).toBe('pretty');
    expect(defaultLogFormat(false)).toBe('json');
  });

  it('writes one readable line per entry, with time, level, service and message, secrets still redacted', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger({ level: 'info', service: 'payments', destination, format: 'pretty' });
    logger.info({ paymentId: 'p1', authorization: 'Bearer abc' }, 'payment settled');
    const text = lines.join('');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: payment settled/m);
    expect(text).toContain('"service":"payments"');
    expect(text).toContain('"paymentId":"p1"');
    expect(text).not.toContain('Bearer abc');
    expect(() => JSON.parse(text)).toThrow(); // not JSON
    expect(text.trim().split('\n')).toHaveLength(1);
  });
});
