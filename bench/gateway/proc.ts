import fs from 'node:fs';
import net from 'node:net';

/** Linux /proc readings of another process, and free loopback ports: shared by bench/run.ts and the gateway benchmark. */

const round1 = (n: number) => Math.round(n * 10) / 10;

/** A free loopback port: listen on 0, read it, close (for a child that must be told its port). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A free loopback port for each variable named (the embedded stack's STACK_PORT_KEYS). */
export async function freePortsFor(keys: readonly string[]): Promise<Record<string, string>> {
  const ports: Record<string, string> = {};
  const taken = new Set<number>();
  for (const key of keys) {
    // The OS may hand a port out again once it is closed: every key gets its own.
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[key] = String(port);
  }
  return ports;
}

/** VmRSS and its peak VmHWM, MiB; null once the process is gone. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: round1(kb('VmRSS') / 1024), peakMiB: round1(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

/** CPU seconds (utime + stime) the process has used so far; clock ticks of 1/100 s on Linux x64. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "(comm) ", state is the first field; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
