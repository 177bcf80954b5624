/** Session facts that change how a message is read or written (RFC 6793, RFC 7606, RFC 8654). */
export interface CodecOptions {
  /** Both sides sent the 4-octet AS capability, so AS_PATH carries 4-octet ASNs (RFC 6793 section 3); default true. */
  readonly fourOctetAs?: boolean;
  /** The peer is in another AS, so a received LOCAL_PREF is discarded (RFC 7606 section 7.5); default false. */
  readonly external?: boolean;
  /** Largest accepted message, 4096 unless Extended Messages were negotiated (RFC 8654 section 4). */
  readonly maxMessageLength?: number;
}
