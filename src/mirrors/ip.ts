/** A parsed IP address: IPv4 as an unsigned 32-bit number, IPv6 as a 128-bit BigInt. */
export type IpAddress = { version: 4; value: number } | { version: 6; value: bigint };

/** A CIDR block with its host bits cleared. */
export type Cidr = { version: 4; network: number; length: number } | { version: 6; network: bigint; length: number };

const IPV4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const MAPPED_PREFIX = 0xffffn;

function parseIpv4(text: string): number | null {
  const match = IPV4.exec(text);
  if (match === null) return null;
  let value = 0;
  for (let part = 1; part <= 4; part++) {
    const octet = Number(match[part]);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** Hex groups of one side of `::`, an IPv4 tail counting as two groups; null when malformed. */
function parseGroups(text: string, allowIpv4Tail: boolean): number[] | null {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  for (const [position, part] of parts.entries()) {
    if (HEX_GROUP.test(part)) {
      groups.push(parseInt(part, 16));
      continue;
    }
    const tail = allowIpv4Tail && position === parts.length - 1 ? parseIpv4(part) : null;
    if (tail === null) return null;
    groups.push(Math.floor(tail / 65536), tail % 65536);
  }
  return groups;
}

function parseIpv6(text: string): bigint | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0] ?? "", halves.length === 1);
  const tail = halves.length === 2 ? parseGroups(halves[1] ?? "", true) : [];
  if (head === null || tail === null) return null;
  const explicit = head.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return null;
  const groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...tail];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/**
 * Parses a textual IPv4 (dotted quad, no leading zeros) or IPv6 address
 * (RFC 4291 section 2.2, with `::` and an IPv4 tail; no zone id). An
 * IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is read as the IPv4 address.
 */
export function parseIp(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { version: 4, value: v4 };
  if (!text.includes(":") || text.length > 45) return null;
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  if (v6 >> 32n === MAPPED_PREFIX) return { version: 4, value: Number(v6 & 0xffffffffn) };
  return { version: 6, value: v6 };
}

/** The network number of `value` under a prefix of `length` bits: the address shifted right past its host bits. */
export function ipv4Network(value: number, length: number): number {
  return length === 0 ? 0 : value >>> (32 - length);
}

export function ipv6Network(value: bigint, length: number): bigint {
  return value >> BigInt(128 - length);
}

/**
 * Parses `address/length` (RFC 4632 for IPv4, RFC 4291 section 2.3 for
 * IPv6). Host bits are cleared rather than rejected, as mirror admins often
 * write their own address with the block's length. An IPv4-mapped IPv6 block
 * of /96 or longer is read as the IPv4 block.
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  if (slash < 0) return null;
  const lengthText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(lengthText)) return null;
  const length = Number(lengthText);
  const addressText = text.slice(0, slash);
  const v4 = parseIpv4(addressText);
  if (v4 !== null) {
    if (length > 32) return null;
    return { version: 4, network: ipv4Network(v4, length), length };
  }
  const v6 = addressText.includes(":") ? parseIpv6(addressText) : null;
  if (v6 === null || length > 128) return null;
  if (length >= 96 && v6 >> 32n === MAPPED_PREFIX) {
    return { version: 4, network: ipv4Network(Number(v6 & 0xffffffffn), length - 96), length: length - 96 };
  }
  return { version: 6, network: ipv6Network(v6, length), length };
}

/** Whether `address` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.version === 4) return address.version === 4 && ipv4Network(address.value, cidr.length) === cidr.network;
  return address.version === 6 && ipv6Network(address.value, cidr.length) === cidr.network;
}

/**
 * The client network a pull is pinned by: the /24 of an IPv4 address, the
 * /48 of an IPv6 address (the usual end-site allocation), "" when unknown.
 */
export function clientNetwork(address: IpAddress | null): string {
  if (address === null) return "";
  if (address.version === 4) return `4:${ipv4Network(address.value, 24)}`;
  return `6:${ipv6Network(address.value, 48).toString(16)}`;
}
