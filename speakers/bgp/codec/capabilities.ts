import { Buffer } from 'node:buffer';
import { BgpDecodeError, BgpEncodeError, ErrorCode, OpenError } from './errors.js';
import { Reader } from './reader.js';

/** Capability codes this codec understands (RFC 5492 section 4, IANA registry). */
export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  GracefulRestart: 64,
  FourOctetAs: 65,
  RouteRefreshCisco: 128,
} as const;

/** One AFI/SAFI entry of the graceful restart capability (RFC 4724 section 3). */
export interface GracefulRestartFamily {
  /** Address Family Identifier. */
  readonly afi: number;
  /** Subsequent Address Family Identifier. */
  readonly safi: number;
  /** F bit: forwarding state for this family was preserved across the restart. */
  readonly forwardingState: boolean;
}

/** Multiprotocol Extensions capability, one per AFI/SAFI (RFC 4760 section 8). */
export interface MultiprotocolCapability {
  /** Discriminant. */
  readonly kind: 'multiprotocol';
  /** Address Family Identifier (1 IPv4, 2 IPv6). */
  readonly afi: number;
  /** Subsequent Address Family Identifier (1 unicast). */
  readonly safi: number;
}

/** Route Refresh capability, standard code 2 or the pre-standard Cisco code 128 (RFC 2918 section 2). */
export interface RouteRefreshCapability {
  /** Discriminant. */
  readonly kind: 'route-refresh';
  /** Capability code as sent: 2, or 128 for the old form. */
  readonly code: 2 | 128;
}

/** Support for 4-octet AS numbers, carrying the speaker's real ASN (RFC 6793 section 3). */
export interface FourOctetAsCapability {
  /** Discriminant. */
  readonly kind: 'four-octet-as';
  /** The sender's 4-octet AS number. */
  readonly asn: number;
}

/** Graceful Restart capability (RFC 4724 section 3; N bit from RFC 8538 section 2). */
export interface GracefulRestartCapability {
  /** Discriminant. */
  readonly kind: 'graceful-restart';
  /** R bit: the sender has restarted. */
  readonly restarting: boolean;
  /** N bit: the sender supports graceful restart for NOTIFICATION messages (RFC 8538). */
  readonly notification: boolean;
  /** Seconds the peer should keep routes while the session is down, 0..4095. */
  readonly restartTime: number;
  /** Address families for which the sender can preserve forwarding state. */
  readonly families: readonly GracefulRestartFamily[];
}

/** A capability this codec does not interpret, kept as raw bytes (RFC 5492 section 4). */
export interface UnknownCapability {
  /** Discriminant. */
  readonly kind: 'unknown';
  /** Capability code, 0..255. */
  readonly code: number;
  /** Capability value as received. */
  readonly value: Buffer;
}

/** Any capability advertised in an OPEN message (RFC 5492 section 4). */
export type Capability =
  | MultiprotocolCapability
  | RouteRefreshCapability
  | FourOctetAsCapability
  | GracefulRestartCapability
  | UnknownCapability;

function malformed(why: string): BgpDecodeError {
  return new BgpDecodeError(ErrorCode.OpenMessage, OpenError.Unspecific, `malformed capability: ${why}`);
}

function checkLength(code: number, value: Buffer, ok: boolean): void {
  if (!ok) throw malformed(`code ${code} with length ${value.length}`);
}

/** Decodes one capability value given its code (RFC 5492 section 4 and each capability's RFC). */
export function decodeCapability(code: number, value: Buffer): Capability {
  switch (code) {
    case CapabilityCode.Multiprotocol:
      checkLength(code, value, value.length === 4);
      return { kind: 'multiprotocol', afi: value.readUInt16BE(0), safi: value[3] ?? 0 };
    case CapabilityCode.RouteRefresh:
    case CapabilityCode.RouteRefreshCisco:
      checkLength(code, value, value.length === 0);
      return { kind: 'route-refresh', code };
    case CapabilityCode.FourOctetAs:
      checkLength(code, value, value.length === 4);
      return { kind: 'four-octet-as', asn: value.readUInt32BE(0) };
    case CapabilityCode.GracefulRestart: {
      checkLength(code, value, value.length >= 2 && (value.length - 2) % 4 === 0);
      const head = value.readUInt16BE(0);
      const families: GracefulRestartFamily[] = [];
      for (let i = 2; i < value.length; i += 4) {
        families.push({ afi: value.readUInt16BE(i), safi: value[i + 2] ?? 0, forwardingState: ((value[i + 3] ?? 0) & 0x80) !== 0 });
      }
      return {
        kind: 'graceful-restart',
        restarting: (head & 0x8000) !== 0,
        notification: (head & 0x4000) !== 0,
        restartTime: head & 0x0fff,
        families,
      };
    }
    default:
      return { kind: 'unknown', code, value };
  }
}

function u8Range(n: number, max: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new BgpEncodeError(`${what} ${n} out of range 0..${max}`);
  return n;
}

/** Encodes one capability as code, length, value (RFC 5492 section 4). */
export function encodeCapability(cap: Capability): Buffer {
  let code: number;
  let value: Buffer;
  switch (cap.kind) {
    case 'multiprotocol':
      code = CapabilityCode.Multiprotocol;
      value = Buffer.alloc(4);
      value.writeUInt16BE(u8Range(cap.afi, 0xffff, 'AFI'), 0);
      value[3] = u8Range(cap.safi, 0xff, 'SAFI');
      break;
    case 'route-refresh':
      code = cap.code;
      value = Buffer.alloc(0);
      break;
    case 'four-octet-as':
      code = CapabilityCode.FourOctetAs;
      value = Buffer.alloc(4);
      value.writeUInt32BE(u8Range(cap.asn, 0xffffffff, 'ASN'), 0);
      break;
    case 'graceful-restart': {
      code = CapabilityCode.GracefulRestart;
      value = Buffer.alloc(2 + 4 * cap.families.length);
      const head = (cap.restarting ? 0x8000 : 0) | (cap.notification ? 0x4000 : 0) | u8Range(cap.restartTime, 0xfff, 'restart time');
      value.writeUInt16BE(head, 0);
      cap.families.forEach((f, i) => {
        value.writeUInt16BE(u8Range(f.afi, 0xffff, 'AFI'), 2 + 4 * i);
        value[4 + 4 * i] = u8Range(f.safi, 0xff, 'SAFI');
        value[5 + 4 * i] = f.forwardingState ? 0x80 : 0;
      });
      break;
    }
    case 'unknown':
      code = u8Range(cap.code, 0xff, 'capability code');
      value = Buffer.from(cap.value);
      break;
  }
  u8Range(value.length, 0xff, 'capability length');
  return Buffer.concat([Buffer.of(code, value.length), value]);
}

/** Decodes the capabilities packed in one Capabilities optional parameter (RFC 5492 section 4). */
export function decodeCapabilities(value: Buffer): Capability[] {
  const r = new Reader(value, () => malformed('runs past the end of its parameter'));
  const out: Capability[] = [];
  while (r.remaining > 0) {
    const code = r.u8();
    const len = r.u8();
    out.push(decodeCapability(code, r.bytes(len)));
  }
  return out;
}
