import { Writable } from 'node:stream';
import { startDrainLoop } from '../../../lib/drain-loop';
import { createLogger } from '../../../lib/logger';
import { eventually } from '../../helpers/eventually';

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('startDrainLoop', () => {
  it('takes batches until one takes nothing, reports the total once, and never runs two rounds at once', async () => {
    const script = [3, 2, 0];
    let inFlight = 0;
    let most = 0;
    const totals: number[] = [];
    const stop = startDrainLoop({
      intervalMs: 5,
      batch: async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20)); // longer than the interval
        inFlight--;
        return script.shift() ?? 0;
      },
      logger: captured().logger,
      failure: 'failed',
      drained: (total) => totals.push(total),
    });
    try {
      expect(
        await eventually(
          async () => totals,
          (t) => t.length > 0,
        ),
      ).toEqual([5]);
      expect(most).toBe(1);
    } finally {
      stop();
    }
  });

  it('logs a failed round with the error’s name alone unless told otherwise, and goes on with the next tick', async () => {
    const { logger, lines } = captured();
    let calls = 0;
    const stop = startDrainLoop({
      intervalMs: 5,
      batch: async () => {
        calls++;
        if (calls === 1) throw new TypeError('contact ada@example.com refused');
        return 0;
      },
      logger,
      failure: 'round failed',
    });
    try {
      const logged = await eventually(
        async () => ({ lines: [...lines], calls }),
        (s) => s.lines.length > 0 && s.calls > 1,
      );
      expect(logged.lines[0]).toMatchObject({ level: 'error', msg: 'round failed', error: 'TypeError' });
      expect(JSON.stringify(logged.lines[0])).not.toContain('ada@example.com');
    } finally {
      stop();
    }
  });

  it('skips ticks while not ready', async () => {
    let ready = false;
    let asked = 0;
    let calls = 0;
    const stop = startDrainLoop({
      intervalMs: 5,
      batch: async () => (calls++, 0),
      logger: captured().logger,
      failure: 'failed',
      ready: () => (asked++, ready),
    });
    try {
      // Several ticks asked and were told no: no batch ran.
      expect(
        await eventually(
          async () => asked,
          (n) => n >= 3,
        ),
      ).toBeGreaterThanOrEqual(3);
      expect(calls).toBe(0);
      ready = true;
      expect(
        await eventually(
          async () => calls,
          (n) => n > 0,
        ),
      ).toBeGreaterThan(0);
    } finally {
      stop();
    }
  });
});
