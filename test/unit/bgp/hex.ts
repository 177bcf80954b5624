// Test helper: joins annotated hex fields (spaces and `_` ignored) into bytes.
import { Buffer } from 'node:buffer';

/** Concatenates hex strings, ignoring whitespace and underscores, into one buffer. */
export function hex(...fields: string[]): Buffer {
  return Buffer.from(fields.join('').replace(/[\s_]/g, ''), 'hex');
}

/** The 16-octet all-ones marker that starts every message (RFC 4271 section 4.1). */
export const MARKER = 'ffffffffffffffffffffffffffffffff';
