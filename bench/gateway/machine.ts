import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** Where a run happened: figures are only comparable within one run on one machine. */
export interface Machine {
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  commit: string;
  /** 1, 5 and 15 minutes: the machine is shared, and this shows how busy it was. */
  loadAverage: number[];
}

export function machine(root: string): Machine {
  const cpus = os.cpus();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    /* not a checkout */
  }
  return {
    node: process.version,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    commit,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
