import { Buffer } from 'node:buffer';
import { BgpDecodeError } from './errors.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, decodeHeader } from './header.js';
import { decodeMessage, type BgpMessage } from './message.js';
import type { CodecOptions } from './options.js';

/** One result from the byte stream: a whole message, or the error that ends the session (RFC 4271 section 6). */
export type FramerResult =
  | { readonly ok: true; readonly message: BgpMessage }
  | { readonly ok: false; readonly error: BgpDecodeError };

/**
 * Splits a TCP byte stream into BGP messages using the header length field (RFC 4271 section
 * 4.1). After the first error it yields nothing more, since every decode error closes the session.
 */
export class Framer {
  #opts: CodecOptions;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed = false;

  /** Creates a framer; options can be changed later, e.g. after the OPEN exchange (RFC 6793, RFC 8654). */
  constructor(opts: CodecOptions = {}) {
    this.#opts = opts;
  }

  /** Replaces the decode options; messages not yet yielded are read with the new ones. */
  setOptions(opts: CodecOptions): void {
    this.#opts = opts;
  }

  /** Octets received but not yet returned as a message. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True once an error has been yielded; the stream cannot be resynchronised. */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Adds a chunk and returns the results it completes. The chunk is stored at once; messages
   * are decoded lazily as the iterator is consumed, so options set between results apply.
   */
  push(chunk: Uint8Array): Iterable<FramerResult> {
    if (!this.#failed && chunk.length > 0) {
      this.#chunks.push(Buffer.from(chunk));
      this.#buffered += chunk.length;
    }
    return this.#drain();
  }

  *#drain(): Generator<FramerResult> {
    while (!this.#failed && this.#buffered >= HEADER_LENGTH) {
      const first = this.#chunks[0];
      if (!first || first.length < HEADER_LENGTH) this.#chunks = [Buffer.concat(this.#chunks)];
      const head = this.#chunks[0] ?? Buffer.alloc(0);
      let length: number;
      try {
        length = decodeHeader(head, this.#opts.maxMessageLength ?? MAX_MESSAGE_LENGTH).length;
      } catch (e) {
        yield this.#fail(e);
        return;
      }
      if (this.#buffered < length) return;
      const all = this.#chunks.length === 1 ? head : Buffer.concat(this.#chunks);
      const rest = all.subarray(length);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      let result: FramerResult;
      try {
        result = { ok: true, message: decodeMessage(all.subarray(0, length), this.#opts) };
      } catch (e) {
        result = this.#fail(e);
      }
      yield result;
    }
  }

  #fail(e: unknown): FramerResult {
    if (!(e instanceof BgpDecodeError)) throw e;
    this.#failed = true;
    this.#chunks = [];
    this.#buffered = 0;
    return { ok: false, error: e };
  }
}
