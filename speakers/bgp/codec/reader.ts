import { Buffer } from 'node:buffer';
import type { BgpDecodeError } from './errors.js';

/**
 * A bounds-checked cursor over part of a buffer: reading past the end throws the
 * BgpDecodeError chosen by the caller, never a RangeError (RFC 4271 section 6).
 */
export class Reader {
  readonly #buf: Buffer;
  readonly #end: number;
  readonly #fail: () => BgpDecodeError;
  #pos: number;

  /** Reads `buf` from `start` to `end`; `fail` builds the error for a read past `end`. */
  constructor(buf: Buffer, fail: () => BgpDecodeError, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#fail = fail;
    this.#pos = start;
    this.#end = end;
  }

  /** Bytes left before the end. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** Throws the caller's error unless `n` bytes remain. */
  need(n: number): void {
    if (n > this.remaining) throw this.#fail();
  }

  /** Returns the next octet without consuming it, or undefined at the end. */
  peek(): number | undefined {
    return this.remaining > 0 ? this.#buf[this.#pos] : undefined;
  }

  /** Reads one unsigned octet. */
  u8(): number {
    this.need(1);
    const v = this.#buf[this.#pos] ?? 0;
    this.#pos += 1;
    return v;
  }

  /** Reads a big-endian unsigned 16-bit integer. */
  u16(): number {
    this.need(2);
    const v = this.#buf.readUInt16BE(this.#pos);
    this.#pos += 2;
    return v;
  }

  /** Reads a big-endian unsigned 32-bit integer. */
  u32(): number {
    this.need(4);
    const v = this.#buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** Returns a copy of the next `n` bytes, so decoded values never alias the input. */
  bytes(n: number): Buffer {
    this.need(n);
    const v = Buffer.from(this.#buf.subarray(this.#pos, this.#pos + n));
    this.#pos += n;
    return v;
  }

  /** Returns a reader over the next `n` bytes with its own error, and skips them here. */
  sub(n: number, fail: () => BgpDecodeError = this.#fail): Reader {
    this.need(n);
    const r = new Reader(this.#buf, fail, this.#pos, this.#pos + n);
    this.#pos += n;
    return r;
  }

  /** Returns a copy of everything left and moves to the end. */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }
}
