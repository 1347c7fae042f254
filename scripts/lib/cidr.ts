/** Why a CIDR block was refused, or null when it is valid. */
export type CidrProblem = string | null;

const IPV4_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const IPV6_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** A dotted-quad IPv4 address as 4 bytes (RFC 791; no leading zeros, which some parsers read as octal). */
function parseIpv4(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => IPV4_OCTET.test(part) && Number(part) <= 255)) return null;
  return parts.map(Number);
}

/** An IPv6 address as 16 bytes (RFC 4291, section 2.2: `::` compression and a dotted-quad tail). */
function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const last = (halves.length === 2 ? tail : head).at(-1);
  const bytes: number[] = [];
  let ipv4Tail: number[] = [];
  if (last !== undefined && last.includes(".")) {
    const parsed = parseIpv4(last);
    if (parsed === null) return null;
    ipv4Tail = parsed;
    (halves.length === 2 ? tail : head).pop();
  }
  const groupCount = head.length + tail.length + ipv4Tail.length / 2;
  if (halves.length === 1 ? groupCount !== 8 : groupCount > 7) return null;
  if (![...head, ...tail].every((group) => IPV6_GROUP.test(group))) return null;
  const toBytes = (group: string) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  };
  bytes.push(...head.flatMap(toBytes));
  bytes.push(...new Array<number>((8 - groupCount) * 2).fill(0));
  bytes.push(...tail.flatMap(toBytes), ...ipv4Tail);
  return bytes;
}

function hostBitsSet(bytes: number[], prefix: number): boolean {
  return bytes.some((byte, i) => {
    const kept = Math.max(0, Math.min(8, prefix - i * 8));
    return (byte & (0xff >> kept)) !== 0;
  });
}

/**
 * Checks an IPv4 or IPv6 CIDR block, `<address>/<prefix>` (RFC 4632, RFC 4291
 * section 2.3), whose address must be the network's first address.
 */
export function cidrProblem(block: string): CidrProblem {
  const slash = block.indexOf("/");
  if (slash < 0) return "is not in CIDR notation <address>/<prefix length>";
  const address = block.slice(0, slash);
  const prefixText = block.slice(slash + 1);
  const isV6 = address.includes(":");
  const bytes = isV6 ? parseIpv6(address) : parseIpv4(address);
  if (bytes === null) return `has an invalid ${isV6 ? "IPv6" : "IPv4"} address`;
  const maxPrefix = bytes.length * 8;
  if (!/^(?:0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > maxPrefix) return `has an invalid prefix length (0 to ${maxPrefix})`;
  if (hostBitsSet(bytes, Number(prefixText))) return "has bits set after the prefix length; give the network's first address";
  return null;
}
