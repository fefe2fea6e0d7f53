import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../../lib/logger';
import { STOP_MESSAGE, supervise } from '../../../lib/supervisor';
import { eventually } from '../../helpers/eventually';

/** A child that exits with the next code of `codes` on each start (the file counts starts), or keeps running when none is left. */
function childScript(dir: string, codes: number[]): string {
  const file = path.join(dir, 'child.js');
  fs.writeFileSync(
    file,
    `const fs = require('fs'); const n = path => Number(fs.existsSync(path) ? fs.readFileSync(path, 'utf8') : 0);
     const starts = n(${JSON.stringify(path.join(dir, 'starts'))}) + 1; fs.writeFileSync(${JSON.stringify(path.join(dir, 'starts'))}, String(starts));
     const codes = ${JSON.stringify(codes)};
     if (starts <= codes.length) process.exit(codes[starts - 1]);
     process.on('message', (m) => { if (m === ${JSON.stringify(STOP_MESSAGE)}) { fs.writeFileSync(${JSON.stringify(path.join(dir, 'stopped'))}, 'yes'); process.exit(0); } });
     setInterval(() => {}, 1000);`,
  );
  return file;
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString().split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-supervisor-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const start = (
  codes: number[],
  logger: ReturnType<typeof capture>['logger'],
  extra: Partial<Parameters<typeof supervise>[0]> = {},
) =>
  supervise({
    name: 'probe',
    logger,
    initialDelayMs: 20,
    maxDelayMs: 200,
    spawn: () => spawn(process.execPath, [childScript(dir, codes)], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] }),
    ...extra,
  });

describe('supervise', () => {
  it('restarts a child that crashes, with a growing backoff, logging each exit, until it stays up; stop shuts it down', async () => {
    const { logger, lines } = capture();
    const supervisor = start([1, 1, 1], logger);
    await eventually(
      async () => supervisor.restarts(),
      (n) => n === 3,
    );
    await eventually(
      async () => supervisor.pid(),
      (pid) => pid !== undefined,
    );
    const exits = lines.filter((l) => l.msg === 'supervised process exited; restarting');
    expect(exits.map((l) => [l.code, l.crashesInARow])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
    const delays = exits.map((l) => Number(l.restartInMs));
    expect(delays[2]!).toBeGreaterThan(delays[0]!); // 20 → 80 ms, ±20 %
    expect(await supervisor.stop()).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'stopped'), 'utf8')).toBe('yes'); // asked over IPC, shut down by itself
    expect(fs.readFileSync(path.join(dir, 'starts'), 'utf8')).toBe('4');
  });

  it('restarts a child killed with SIGKILL', async () => {
    const { logger, lines } = capture();
    const supervisor = start([], logger);
    const first = await eventually(
      async () => supervisor.pid(),
      (pid) => pid !== undefined,
    );
    process.kill(first!, 'SIGKILL');
    await eventually(
      async () => supervisor.pid(),
      (pid) => pid !== undefined && pid !== first,
    );
    expect(lines.find((l) => l.msg === 'supervised process exited; restarting')).toMatchObject({
      signal: 'SIGKILL',
      code: null,
    });
    await supervisor.stop();
  });

  it('does not restart what a restart cannot fix (a bad configuration: exit 2)', async () => {
    const { logger, lines } = capture();
    const supervisor = start([2], logger);
    expect(await supervisor.done).toBe(2);
    expect(supervisor.restarts()).toBe(0);
    expect(lines.at(-1)).toMatchObject({ msg: 'supervised process exited; not restarting', code: 2 });
  });
});
