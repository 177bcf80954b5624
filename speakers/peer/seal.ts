// Authentication of peer-channel packets (ADR 0017): HMAC-SHA256 over the encoded message with
// the cluster's peer key, truncated to 16 bytes and appended. Packets whose seal does not match
// are dropped before they are decoded.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Bytes of the seal appended to each packet. */
export const SEAL_BYTES = 16;
/** The shortest key accepted, in bytes. */
export const MIN_KEY_BYTES = 16;

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update('vipcast-peer-1\0').update(body).digest().subarray(0, SEAL_BYTES);
}

/** Appends the seal to an encoded message. */
export function seal(key: Buffer, body: Buffer): Buffer {
  if (key.length < MIN_KEY_BYTES) throw new RangeError(`peer key of ${key.length} bytes: at least ${MIN_KEY_BYTES} are needed`);
  return Buffer.concat([body, mac(key, body)]);
}

/** The message inside a packet whose seal matches, or why it was refused. */
export function unseal(key: Buffer, packet: Buffer): { ok: true; body: Buffer } | { ok: false; reason: 'short' | 'seal' } {
  if (packet.length <= SEAL_BYTES) return { ok: false, reason: 'short' };
  const body = packet.subarray(0, packet.length - SEAL_BYTES);
  const expected = mac(key, body);
  if (!timingSafeEqual(expected, packet.subarray(packet.length - SEAL_BYTES))) return { ok: false, reason: 'seal' };
  return { ok: true, body };
}
