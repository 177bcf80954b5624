// Outbound TCP for a BGP session. Plain node:net when it suffices; the native addon
// (native/tcp_md5.cc) when the session needs a TCP MD5 signature key
// (RFC 2385) or a chosen TTL (eBGP multihop), which node:net cannot set before the SYN.
// See docs/adr/0009-tcp-md5.md.
import { closeSync } from 'node:fs';
import net from 'node:net';
import { loadNativeAddon } from '../common/native-addon.js';

/** Where and how to connect (RFC 4271 section 8.2.1 port 179 by default). */
export interface TcpTarget {
  /** Peer address, IPv4 or IPv6. */
  readonly host: string;
  /** Peer TCP port. */
  readonly port: number;
  /** Source address to bind. */
  readonly localAddress?: string;
  /** TCP MD5 signature key shared with the peer, at most 80 octets (RFC 2385 section 2). */
  readonly password?: string;
  /** IP TTL / IPv6 hop limit of our packets, for eBGP multihop. */
  readonly ttl?: number;
}

/** A connect in progress; cancel() abandons it and closes whatever it made. */
export interface PendingConnect {
  cancel(): void;
}

interface Md5Addon {
  connect(
    options: { peer: string; port: number; password?: string; localAddress?: string; ttl?: number },
    callback: (error: Error | null, fd: number) => void,
  ): () => void;
}

function loadAddon(): Md5Addon {
  return loadNativeAddon<Md5Addon>('tcp_md5', "TCP MD5 and TTL need vipcast's native addon");
}

/** True when `target` needs the native addon rather than node:net. */
export function needsNative(target: TcpTarget): boolean {
  return target.password !== undefined || target.ttl !== undefined;
}

/** Throws now, rather than at the first connect, if the addon this target needs is missing. */
export function checkTcpSupport(target: TcpTarget): void {
  if (needsNative(target)) loadAddon();
}

/**
 * Opens a TCP connection to the target and calls `done` once, with the connected socket or
 * the error. MD5 and TTL are set on the socket before its SYN leaves (RFC 2385 section 2).
 */
export function connectTcp(target: TcpTarget, done: (result: net.Socket | Error) => void): PendingConnect {
  if (!needsNative(target)) {
    const options: net.NetConnectOpts = { host: target.host, port: target.port, family: net.isIPv6(target.host) ? 6 : 4 };
    if (target.localAddress !== undefined) options.localAddress = target.localAddress;
    const socket = net.connect(options);
    let settled = false;
    const settle = (r: net.Socket | Error): void => {
      if (settled) return;
      settled = true;
      socket.off('connect', onConnect);
      socket.off('error', onError);
      done(r);
    };
    const onConnect = (): void => settle(socket);
    const onError = (e: Error): void => {
      socket.destroy();
      settle(e);
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    return {
      cancel: () => {
        settled = true;
        socket.destroy();
      },
    };
  }
  let cancelled = false;
  const options: Parameters<Md5Addon['connect']>[0] = { peer: target.host, port: target.port };
  if (target.password !== undefined) options.password = target.password;
  if (target.localAddress !== undefined) options.localAddress = target.localAddress;
  if (target.ttl !== undefined) options.ttl = target.ttl;
  const cancelNative = loadAddon().connect(options, (error, fd) => {
    if (cancelled) {
      if (!error && fd >= 0) closeSync(fd);
      return;
    }
    if (error) {
      done(error);
      return;
    }
    done(new net.Socket({ fd, readable: true, writable: true }));
  });
  return {
    cancel: () => {
      cancelled = true;
      cancelNative();
    },
  };
}
