// BFD Control packets (RFC 5880 section 4.1), without authentication: a pure codec. The
// decoder throws one error type whose reason names the rule the bytes broke.
import { Buffer } from 'node:buffer';

/** Why a Control packet must be discarded on reception (RFC 5880 section 6.8.6). */
export type BfdDecodeReason =
  /** Fewer octets than a Control packet, or than its Length field says. */
  | 'truncated'
  /** The Version field is not 1. */
  | 'bad-version'
  /** The Length field is below 24. */
  | 'bad-length'
  /** The A bit is set: vipcast configures no authentication, so it cannot verify one. */
  | 'authentication'
  /** The M bit is set (reserved for multipoint BFD). */
  | 'multipoint'
  /** Detect Mult is 0. */
  | 'zero-detect-mult'
  /** My Discriminator is 0. */
  | 'zero-discriminator';

/** A received packet that is not a usable Control packet. */
export class BfdDecodeError extends Error {
  override readonly name = 'BfdDecodeError';
  constructor(
    readonly reason: BfdDecodeReason,
    detail: string,
  ) {
    super(`BFD Control packet discarded: ${detail} (RFC 5880 section 6.8.6)`);
  }
}

/** Session states as carried in the Sta field (RFC 5880 section 4.1). */
export const BfdState = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
/** A BFD session state value. */
export type BfdStateValue = (typeof BfdState)[keyof typeof BfdState];

/** Diagnostic codes (RFC 5880 section 4.1). */
export const BfdDiag = { None: 0, ControlDetectionTimeExpired: 1, NeighborSignaledDown: 3, AdministrativelyDown: 7 } as const;

/** One BFD Control packet (RFC 5880 section 4.1); intervals in microseconds. */
export interface BfdControl {
  /** Diagnostic code: why the sender last left Up. */
  readonly diag: number;
  /** Sender's session state. */
  readonly state: BfdStateValue;
  /** Poll bit: the sender asks for a Final (RFC 5880 section 6.5). */
  readonly poll: boolean;
  /** Final bit: answers a Poll. */
  readonly final: boolean;
  /** Detect Mult: missed packets before the receiver declares the session down. */
  readonly detectMult: number;
  /** My Discriminator, non-zero. */
  readonly myDiscriminator: number;
  /** Your Discriminator, or 0 when the remote one is not known yet. */
  readonly yourDiscriminator: number;
  /** Desired Min TX Interval, microseconds. */
  readonly desiredMinTx: number;
  /** Required Min RX Interval, microseconds. */
  readonly requiredMinRx: number;
}

/** Octets of a Control packet without authentication (RFC 5880 section 4.1). */
export const BFD_CONTROL_LENGTH = 24;

/** Encodes a Control packet: version 1, no C/A/D/M bits, Required Min Echo RX 0. */
export function encodeBfdControl(p: BfdControl): Buffer {
  const out = Buffer.alloc(BFD_CONTROL_LENGTH);
  out[0] = (1 << 5) | (p.diag & 0x1f);
  out[1] = (p.state << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0);
  out[2] = p.detectMult;
  out[3] = BFD_CONTROL_LENGTH;
  out.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  out.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  out.writeUInt32BE(p.desiredMinTx >>> 0, 12);
  out.writeUInt32BE(p.requiredMinRx >>> 0, 16);
  out.writeUInt32BE(0, 20);
  return out;
}

/**
 * Decodes a Control packet. Throws BfdDecodeError for one that must be discarded (RFC 5880
 * section 6.8.6: version, length, Detect Mult, Multipoint, My Discriminator, and
 * authentication, which we do not use).
 */
export function decodeBfdControl(buf: Uint8Array): BfdControl {
  if (buf.length < BFD_CONTROL_LENGTH) throw new BfdDecodeError('truncated', `short packet (${buf.length} octets)`);
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = (b[0] ?? 0) >> 5;
  if (version !== 1) throw new BfdDecodeError('bad-version', `version ${version}`);
  const length = b[3] ?? 0;
  if (length < BFD_CONTROL_LENGTH) throw new BfdDecodeError('bad-length', `length field ${length}`);
  if (length > b.length) throw new BfdDecodeError('truncated', `length field ${length} but ${b.length} octets`);
  const flags = b[1] ?? 0;
  if (flags & 0x04) throw new BfdDecodeError('authentication', 'authentication present but not configured');
  if (flags & 0x01) throw new BfdDecodeError('multipoint', 'multipoint bit set');
  const detectMult = b[2] ?? 0;
  if (detectMult === 0) throw new BfdDecodeError('zero-detect-mult', 'detect multiplier 0');
  const myDiscriminator = b.readUInt32BE(4);
  if (myDiscriminator === 0) throw new BfdDecodeError('zero-discriminator', 'my discriminator 0');
  return {
    diag: (b[0] ?? 0) & 0x1f,
    state: (flags >> 6) as BfdStateValue,
    poll: (flags & 0x20) !== 0,
    final: (flags & 0x10) !== 0,
    detectMult,
    myDiscriminator,
    yourDiscriminator: b.readUInt32BE(8),
    desiredMinTx: b.readUInt32BE(12),
    requiredMinRx: b.readUInt32BE(16),
  };
}
