import { spawn, type ChildProcess } from 'node:child_process';
import { isReadyMessage } from './child-ipc';

const OUTPUT_LINES_KEPT = 40;
const STOP_TIMEOUT_MS = 5000;

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A child process the runner started: its pid, the tail of its output, and how to stop it. */
export interface Child {
  label: string;
  pid: number;
  process: ChildProcess;
  /** The last lines it printed (stdout and stderr), for diagnosing a target that failed. */
  tail: string[];
  /** Lines printed since start: a gateway printing under load is worth knowing about. */
  linesPrinted: number;
  exited: Promise<Exit>;
  /** Set once it has exited. */
  exit?: Exit;
}

/** Every child still running, so that a failure, SIGINT or the deadline can end them all. */
const running = new Set<Child>();

/**
 * Node flags for the gateways under test (not the subgraphs), e.g.
 * `BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile them (Node refuses
 * --cpu-prof in NODE_OPTIONS).
 */
export const gatewayNodeArgs = (): string[] => (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Starts `node <script>` from the same Node binary, with exactly `env` (plus PATH and HOME). */
export function startChild(label: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Child {
  const proc = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, METRICS_PORT: '0', ENV_FILE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  if (!proc.pid) throw new Error(`could not spawn ${label}`);
  // Assigned before any 'exit' event can fire (events are delivered on a later tick).
  let child!: Child;
  const exited = new Promise<Exit>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(child);
      child.exit = { code, signal };
      resolve(child.exit);
    });
  });
  child = { label, pid: proc.pid, process: proc, tail: [], linesPrinted: 0, exited };
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      child.linesPrinted++;
      child.tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
      if (child.tail.length > OUTPUT_LINES_KEPT) child.tail.shift();
    }
  };
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  running.add(child);
  return child;
}

export const describeExit = (child: Child) =>
  `${child.label} exited (code ${child.exit?.code}, signal ${child.exit?.signal}):\n${child.tail.join('\n')}`;

/** Resolves with the ports a child reported over IPC; rejects if it exits or stays silent. */
export function readyPorts(child: Child, timeoutMs: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${child.label} not ready after ${timeoutMs} ms:\n${child.tail.join('\n')}`)),
      timeoutMs,
    );
    child.process.on('message', (m) => {
      if (!isReadyMessage(m)) return;
      clearTimeout(timer);
      resolve(m.ports);
    });
    void child.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(describeExit(child)));
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within a few seconds. */
export async function stopChild(child: Child): Promise<Exit & { killed: boolean }> {
  if (child.exit) return { ...child.exit, killed: false };
  child.process.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS).unref());
  if ((await Promise.race([child.exited, timeout])) !== 'timeout') return { ...child.exit!, killed: false };
  child.process.kill('SIGKILL');
  return { ...(await child.exited), killed: true };
}

export const stopAll = () => Promise.all([...running].map(stopChild));

/** Last resort (deadline, second SIGINT): no waiting. */
export function killAll(): void {
  for (const child of running) child.process.kill('SIGKILL');
}
