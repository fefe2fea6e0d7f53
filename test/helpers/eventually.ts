/**
 * Reads until `done` holds or `timeoutMs` passes (then returns the last value for the test's own
 * assertion to report). For effects that happen in event consumers and background jobs.
 */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}
