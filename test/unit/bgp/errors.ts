// Test helper: runs a decode and returns the BgpDecodeError it throws.
import { BgpDecodeError } from '../../../speakers/bgp/codec/errors.js';

/** Calls `fn`, expecting a BgpDecodeError, and returns [code, subcode, error]. */
export function decodeErrorOf(fn: () => unknown): [number, number, BgpDecodeError] {
  try {
    fn();
  } catch (e) {
    if (e instanceof BgpDecodeError) return [e.code, e.subcode, e];
    throw e;
  }
  throw new Error('expected a BgpDecodeError, got a message');
}
