import { Buffer } from 'node:buffer';

/** NOTIFICATION error codes (RFC 4271 section 4.5; code 7 from RFC 7313 section 5). */
export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FiniteStateMachine: 5,
  Cease: 6,
  RouteRefreshMessage: 7,
} as const;

/** Message Header Error subcodes (RFC 4271 section 6.1). */
export const HeaderError = {
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;

/** OPEN Message Error subcodes (RFC 4271 section 6.2, RFC 5492 section 3). */
export const OpenError = {
  Unspecific: 0,
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

/** UPDATE Message Error subcodes (RFC 4271 section 6.3). */
export const UpdateError = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOrigin: 6,
  InvalidNextHop: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** Cease subcodes (RFC 4486 section 4; RFC 8538 section 5 for Hard Reset). */
export const CeaseSubcode = {
  MaximumPrefixes: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
} as const;

/** ROUTE-REFRESH Message Error subcodes (RFC 7313 section 5). */
export const RouteRefreshError = {
  InvalidMessageLength: 1,
} as const;

/**
 * A received message that cannot be accepted; `code`, `subcode` and `data` are the NOTIFICATION
 * to send before closing the session (RFC 4271 section 6, RFC 7606 section 2 "session reset").
 */
export class BgpDecodeError extends Error {
  override readonly name = 'BgpDecodeError';
  /** NOTIFICATION error code (RFC 4271 section 4.5). */
  readonly code: number;
  /** NOTIFICATION error subcode (RFC 4271 section 4.5). */
  readonly subcode: number;
  /** NOTIFICATION data field, as RFC 4271 section 6 prescribes for this error. */
  readonly data: Buffer;

  /** Builds the error from the NOTIFICATION it calls for (RFC 4271 section 6). */
  constructor(code: number, subcode: number, message: string, data: Uint8Array = Buffer.alloc(0)) {
    super(message);
    this.code = code;
    this.subcode = subcode;
    this.data = Buffer.from(data);
  }
}

/** A message value that cannot be put on the wire, e.g. a field out of range (RFC 4271 section 4). */
export class BgpEncodeError extends Error {
  override readonly name = 'BgpEncodeError';
}
