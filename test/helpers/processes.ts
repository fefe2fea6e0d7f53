import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../lib/data-dir';

// Free loopback ports: one implementation, the benches'.
export { freePort, freePortsFor } from '../../bench/gateway/proc';

export interface ServiceProcess {
  proc: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop: (graceMs?: number) => Promise<number | string>;
}

/** Runs a built entry point (`dist/...`) as its own process, as production does. */
/** Every process a test started and has not seen exit: killed when the test process exits, whatever happened. */
const alive = new Set<ReturnType<typeof spawn>>();
process.once('exit', () => {
  for (const proc of alive) proc.kill('SIGKILL');
});

export function startProcess(entry: string, env: Record<string, string>): ServiceProcess {
  const proc = spawn(process.execPath, [path.join(projectRoot(), entry)], {
    cwd: projectRoot(),
    // METRICS_PORT 0: a free port for each gateway's metrics listener (several run at once).
    // ENV_FILE empty: a developer's own .env (real keys, other ports) never reaches a test's process.
    env: {
      PATH: process.env.PATH ?? '',
      APOLLO_TELEMETRY_DISABLED: 'true',
      LOG_LEVEL: 'warn',
      METRICS_PORT: '0',
      ENV_FILE: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  alive.add(proc);
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => {
      alive.delete(proc);
      resolve(code ?? signal ?? -1);
    }),
  );
  return {
    proc,
    output: () => output,
    exited,
    stop: async (graceMs = 15_000) => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    },
  };
}

/** Polls `url` until it answers 200; fails with the process output if it exits or times out first. */
export async function waitReady(url: string, service: ServiceProcess, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void service.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`process exited before ready:\n${service.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Do not leave it running: it would hold its ports and data folder for the tests after this one.
  service.proc.kill('SIGKILL');
  throw new Error(`not ready after ${timeoutMs} ms:\n${service.output()}`);
}
