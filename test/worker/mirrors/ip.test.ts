import { describe, expect, it } from "vitest";
import { cidrContains, clientNetwork, parseCidr, parseIp } from "../../../src/mirrors/ip";

function contains(block: string, address: string): boolean {
  const cidr = parseCidr(block);
  const ip = parseIp(address);
  if (cidr === null || ip === null) throw new Error(`fixture ${block} or ${address} does not parse`);
  return cidrContains(cidr, ip);
}

describe("parseIp", () => {
  it("Should read a dotted quad as an unsigned 32-bit number", () => {
    expect(parseIp("203.0.113.255")).toEqual({ version: 4, value: 0xcb0071ff });
  });

  it("Should reject IPv4 octets above 255, leading zeros and missing parts", () => {
    expect(["256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.-4", ""].map(parseIp)).toEqual([null, null, null, null, null, null]);
  });

  it("Should expand a compressed IPv6 address", () => {
    expect(parseIp("2001:db8::1")).toEqual({ version: 6, value: 0x20010db8000000000000000000000001n });
  });

  it("Should read an IPv6 address with an embedded IPv4 tail", () => {
    expect(parseIp("64:ff9b::192.0.2.33")).toEqual({ version: 6, value: 0x0064ff9b0000000000000000c0000221n });
  });

  it("Should read an IPv4-mapped IPv6 address as IPv4", () => {
    expect(parseIp("::ffff:192.0.2.1")).toEqual({ version: 4, value: 0xc0000201 });
  });

  it("Should reject malformed IPv6 addresses", () => {
    const bad = ["2001:db8::1::1", "2001:db8:0:0:0:0:0:0:1", "1:2:3:4:5:6:7", "2001:db8::g", "fe80::1%eth0", "12345::1", ":::"];
    expect(bad.map(parseIp)).toEqual(bad.map(() => null));
  });
});

describe("parseCidr and cidrContains", () => {
  it("Should match an IPv4 address inside its block and not one just outside", () => {
    expect([contains("192.0.2.0/25", "192.0.2.127"), contains("192.0.2.0/25", "192.0.2.128")]).toEqual([true, false]);
  });

  it("Should clear host bits written into a block", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual({ version: 4, network: 10, length: 8 });
  });

  it("Should match every IPv4 address with a /0 block", () => {
    expect([contains("0.0.0.0/0", "255.255.255.255"), contains("0.0.0.0/0", "0.0.0.0")]).toEqual([true, true]);
  });

  it("Should match a /32 block only on its own address", () => {
    expect([contains("198.51.100.9/32", "198.51.100.9"), contains("198.51.100.9/32", "198.51.100.8")]).toEqual([true, false]);
  });

  it("Should match IPv6 addresses inside a /48 and not in the neighbouring /48", () => {
    expect([contains("2001:db8:abcd::/48", "2001:db8:abcd:ffff::1"), contains("2001:db8:abcd::/48", "2001:db8:abce::1")]).toEqual([true, false]);
  });

  it("Should match an IPv6 block whose length is not a multiple of 16", () => {
    expect([contains("2001:db8:8000::/33", "2001:db8:ffff::1"), contains("2001:db8:8000::/33", "2001:db8:7fff::1")]).toEqual([true, false]);
  });

  it("Should never match an IPv4 address against an IPv6 block", () => {
    expect(contains("::/0", "192.0.2.1")).toBe(false);
  });

  it("Should read an IPv4-mapped IPv6 block as the IPv4 block", () => {
    expect(parseCidr("::ffff:192.0.2.0/120")).toEqual({ version: 4, network: 0xc00002, length: 24 });
  });

  it("Should reject blocks without a length, with a length too long, or with a bad address", () => {
    expect(["192.0.2.0", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/08", "example/24"].map(parseCidr)).toEqual([null, null, null, null, null]);
  });
});

describe("clientNetwork", () => {
  it("Should give every address of one IPv4 /24 the same network", () => {
    expect(clientNetwork(parseIp("192.0.2.1"))).toBe(clientNetwork(parseIp("192.0.2.254")));
  });

  it("Should give addresses in neighbouring IPv4 /24s different networks", () => {
    expect(clientNetwork(parseIp("192.0.2.1"))).not.toBe(clientNetwork(parseIp("192.0.3.1")));
  });

  it("Should give every address of one IPv6 /48 the same network", () => {
    expect(clientNetwork(parseIp("2001:db8:1::1"))).toBe(clientNetwork(parseIp("2001:db8:1:ffff::2")));
  });

  it("Should give addresses in neighbouring IPv6 /48s different networks", () => {
    expect(clientNetwork(parseIp("2001:db8:1::1"))).not.toBe(clientNetwork(parseIp("2001:db8:2::1")));
  });
});
