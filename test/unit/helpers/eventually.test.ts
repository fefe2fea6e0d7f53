import { eventually, EventuallyTimeoutError } from '../../helpers/eventually';

describe('eventually', () => {
  it('returns the first value that satisfies the condition', async () => {
    let n = 0;
    await expect(
      eventually(
        async () => ++n,
        (v) => v >= 3,
      ),
    ).resolves.toBe(3);
  });

  it('throws on timeout, naming the last value it read', async () => {
    let n = 0;
    const err = await eventually(
      async () => ({ reads: ++n, status: 'PENDING' }),
      (v) => v.status === 'ACTIVE',
      120,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventuallyTimeoutError);
    expect((err as Error).message).toMatch(
      /^condition not met within 120 ms; last value: \{ reads: \d+, status: 'PENDING' \}$/,
    );
    expect((err as EventuallyTimeoutError).lastValue).toEqual({ reads: n, status: 'PENDING' });
  });
});
