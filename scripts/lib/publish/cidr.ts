import { parseCidr, parseIp, type Cidr, type IpAddress } from "../../../src/mirrors/ip";

/** Why a CIDR block was refused, or null when it is valid. */
export type CidrProblem = string | null;

function hostBitsSet(address: IpAddress, cidr: Cidr): boolean {
  if (address.version === 4) return cidr.length < 32 && address.value % 2 ** (32 - cidr.length) !== 0;
  return (address.value & ((1n << BigInt(128 - cidr.length)) - 1n)) !== 0n;
}

/**
 * Checks an IPv4 or IPv6 CIDR block, `<address>/<prefix>` (RFC 4632, RFC 4291
 * section 2.3), with the worker's own parser (`src/mirrors/ip.ts`). Stricter
 * than the worker, which clears host bits: an operator's table must name
 * each network by its first address.
 */
export function cidrProblem(block: string): CidrProblem {
  const slash = block.indexOf("/");
  if (slash < 0) return "is not in CIDR notation <address>/<prefix length>";
  const addressText = block.slice(0, slash);
  const isV6 = addressText.includes(":");
  const address = parseIp(addressText);
  if (address === null) return `has an invalid ${isV6 ? "IPv6" : "IPv4"} address`;
  const cidr = parseCidr(block);
  if (cidr === null) return `has an invalid prefix length (0 to ${isV6 ? 128 : 32})`;
  if (cidr.version !== address.version) return "gives an IPv4-mapped address with a prefix shorter than /96";
  if (hostBitsSet(address, cidr)) return "has bits set after the prefix length; give the network's first address";
  return null;
}
