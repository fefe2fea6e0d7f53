import net from 'node:net';

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)$/i;

export class NonLoopbackConnectionError extends Error {
  constructor(host: string) {
    super(`Tests may only connect to loopback; refused a connection to ${host}`);
  }
}

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host.replace(/^\[|\]$/g, ''));
}

/**
 * Every TCP connection a test process opens (HTTP clients, pg, SDKs) goes through
 * net.Socket#connect: refuse any destination but loopback before a packet leaves.
 */
export function guardLoopbackOnly(): void {
  const proto = net.Socket.prototype as net.Socket & { __loopbackGuard?: boolean };
  if (proto.__loopbackGuard) return;
  const original = proto.connect;
  proto.connect = function connect(this: net.Socket, ...args: unknown[]) {
    const first = args[0];
    let host: string | undefined;
    let isPipe = false;
    if (Array.isArray(first)) {
      // internal normalized form: [options, callback]
      const options = first[0] as net.NetConnectOpts & { path?: string };
      isPipe = Boolean(options?.path);
      host = (options as net.TcpNetConnectOpts)?.host;
    } else if (first !== null && typeof first === 'object') {
      const options = first as net.NetConnectOpts & { path?: string };
      isPipe = Boolean(options.path);
      host = (options as net.TcpNetConnectOpts).host;
    } else if (typeof first === 'string' && !/^\d+$/.test(first)) {
      isPipe = true; // a unix socket path
    } else {
      host = typeof args[1] === 'string' ? (args[1] as string) : undefined;
    }
    if (!isPipe && host !== undefined && !isLoopback(host)) throw new NonLoopbackConnectionError(host);
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof proto.connect;
  proto.__loopbackGuard = true;
}
