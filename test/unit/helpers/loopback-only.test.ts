import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NonLoopbackConnectionError, guardLoopbackOnly, isLoopback } from '../../helpers/loopback-only';

const servers: net.Server[] = [];
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-loopback-'));
});
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A server that greets and hangs up, listening on `where` (a loopback port 0, or a unix socket path). */
async function greeter(where: { port: 0; host: string } | { path: string }): Promise<net.Server> {
  const server = net.createServer((socket) => socket.end('hello'));
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(where, resolve);
  });
  return server;
}

function readAll(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('guardLoopbackOnly', () => {
  it('is installed by the jest setup file, and installing it again changes nothing', () => {
    const proto = net.Socket.prototype as net.Socket & { __loopbackGuard?: boolean };
    expect(proto.__loopbackGuard).toBe(true);
    const connect = proto.connect;
    guardLoopbackOnly();
    expect(proto.connect).toBe(connect);
  });

  it.each([
    ['net.connect(options) to a private address', () => net.connect({ host: '10.0.0.1', port: 9 })],
    ['net.createConnection(port, host)', () => net.createConnection(9, '198.51.100.7')],
    ['new net.Socket().connect(port, host)', () => new net.Socket().connect(9, '192.0.2.1')],
    ['an IPv6 address', () => net.connect({ host: '2001:db8::1', port: 9 })],
    [
      'a host name (before any DNS lookup)',
      () =>
        net.connect({
          host: 'example.invalid',
          port: 9,
          lookup: () => {
            throw new Error('DNS lookup ran');
          },
        }),
    ],
    ['a loopback-looking host name', () => net.connect({ host: '127.0.0.1.nip.io', port: 9 })],
    ['http.get', () => http.get('http://10.0.0.1:9/')],
  ])('refuses %s synchronously', (_, open) => {
    let error: unknown;
    try {
      open();
    } catch (err) {
      error = err;
    }
    // net is shared by every test file a worker runs, and the guard installs once: the error may
    // come from the realm of an earlier test file, where `instanceof` (even of Error) fails.
    expect(error).toBeDefined();
    expect((error as Error).constructor.name).toBe(NonLoopbackConnectionError.name);
    expect((error as Error).message).toMatch(/^Tests may only connect to loopback; refused a connection to \S+$/);
  });

  it('lets a connection to 127.0.0.1 through', async () => {
    const server = await greeter({ port: 0, host: '127.0.0.1' });
    const { port } = server.address() as net.AddressInfo;
    await expect(readAll(net.connect({ host: '127.0.0.1', port }))).resolves.toBe('hello');
    await expect(readAll(new net.Socket().connect(port, '127.0.0.1'))).resolves.toBe('hello');
  });

  it('lets a unix socket connection through', async () => {
    const socketPath = path.join(tmp, 'greeter.sock');
    await greeter({ path: socketPath });
    await expect(readAll(net.connect({ path: socketPath }))).resolves.toBe('hello');
    await expect(readAll(net.connect(socketPath))).resolves.toBe('hello');
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.10.2', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['LocalHost', true],
    ['10.0.0.1', false],
    ['192.0.2.1', false],
    ['0.0.0.0', false],
    ['128.0.0.1', false],
    ['::', false],
    ['2001:db8::1', false],
    ['::ffff:10.0.0.1', false],
    ['example.com', false],
    ['localhost.example.com', false],
    ['mylocalhost', false],
    ['127.0.0.1.nip.io', false],
    ['1127.0.0.1', false],
    ['', false],
  ])('%j: %s', (host, expected) => {
    expect(isLoopback(host)).toBe(expected);
  });
});
