// Classic BPF programs (the kernel's socket filters) that keep uninteresting frames out of
// JavaScript. Each instruction is a struct sock_filter: u16 code, u8 jt, u8 jf, u32 k, in
// host byte order (little-endian on the machines vipcast runs on).

/** One classic BPF instruction. */
export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

// Opcodes from linux/filter.h.
const BPF_LD_H_ABS = 0x28;
const BPF_LD_B_ABS = 0x30;
const BPF_JEQ_K = 0x15;
const BPF_RET_K = 0x06;

/** Encodes a program as the kernel's struct sock_fprog filter array expects. */
export function encodeBpf(program: readonly BpfInstruction[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(insn.jt, i * 8 + 2);
    out.writeUInt8(insn.jf, i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

const accept: BpfInstruction = { code: BPF_RET_K, jt: 0, jf: 0, k: 0xffff };
const drop: BpfInstruction = { code: BPF_RET_K, jt: 0, jf: 0, k: 0 };

/** Accepts ARP requests (RFC 826 opcode 1) only; for a socket bound to EtherType 0x0806. */
export const arpRequestFilter: readonly BpfInstruction[] = [
  { code: BPF_LD_H_ABS, jt: 0, jf: 0, k: 12 }, // EtherType
  { code: BPF_JEQ_K, jt: 0, jf: 3, k: 0x0806 },
  { code: BPF_LD_H_ABS, jt: 0, jf: 0, k: 20 }, // ARP operation
  { code: BPF_JEQ_K, jt: 0, jf: 1, k: 1 },
  accept,
  drop,
];

/**
 * Accepts ICMPv6 Neighbor Solicitations (RFC 4861 4.3: next header 58 right after the
 * IPv6 header, type 135); for a socket bound to EtherType 0x86DD. Solicitations behind
 * extension headers are not seen, which no neighbour-discovery sender here uses.
 */
export const neighborSolicitationFilter: readonly BpfInstruction[] = [
  { code: BPF_LD_H_ABS, jt: 0, jf: 0, k: 12 }, // EtherType
  { code: BPF_JEQ_K, jt: 0, jf: 5, k: 0x86dd },
  { code: BPF_LD_B_ABS, jt: 0, jf: 0, k: 20 }, // IPv6 next header
  { code: BPF_JEQ_K, jt: 0, jf: 3, k: 58 },
  { code: BPF_LD_B_ABS, jt: 0, jf: 0, k: 54 }, // ICMPv6 type
  { code: BPF_JEQ_K, jt: 0, jf: 1, k: 135 },
  accept,
  drop,
];

/**
 * Accepts ARP requests and replies (RFC 826 opcodes 1 and 2): the requests to answer, and the
 * replies in which another host may claim a VIP we own (RFC 5227 section 2.4).
 */
export const arpFilter: readonly BpfInstruction[] = [
  { code: BPF_LD_H_ABS, jt: 0, jf: 0, k: 12 }, // EtherType
  { code: BPF_JEQ_K, jt: 0, jf: 4, k: 0x0806 },
  { code: BPF_LD_H_ABS, jt: 0, jf: 0, k: 20 }, // ARP operation
  { code: BPF_JEQ_K, jt: 1, jf: 0, k: 1 },
  { code: BPF_JEQ_K, jt: 0, jf: 1, k: 2 },
  accept,
  drop,
];

/**
 * Accepts ICMPv6 Neighbor Solicitations and Advertisements (RFC 4861 4.3, 4.4: types 135 and
 * 136 right after the IPv6 header): the solicitations to answer, and the advertisements in
 * which another host may claim a VIP we own.
 */
export const neighborDiscoveryFilter: readonly BpfInstruction[] = [
  { code: BPF_LD_H_ABS, jt: 0, jf: 0, k: 12 }, // EtherType
  { code: BPF_JEQ_K, jt: 0, jf: 6, k: 0x86dd },
  { code: BPF_LD_B_ABS, jt: 0, jf: 0, k: 20 }, // IPv6 next header
  { code: BPF_JEQ_K, jt: 0, jf: 4, k: 58 },
  { code: BPF_LD_B_ABS, jt: 0, jf: 0, k: 54 }, // ICMPv6 type
  { code: BPF_JEQ_K, jt: 1, jf: 0, k: 135 },
  { code: BPF_JEQ_K, jt: 0, jf: 1, k: 136 },
  accept,
  drop,
];
