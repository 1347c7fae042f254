import { describe, expect, it } from "vitest";
import { cidrProblem } from "../../../scripts/lib/publish/cidr";

describe("cidrProblem", () => {
  it.each(["0.0.0.0/0", "10.0.0.0/8", "192.0.2.128/25", "203.0.113.7/32", "::/0", "2001:db8::/32", "fe80::/10", "::1/128", "1:2:3:4:5:6:7:8/128", "::ffff:192.0.2.0/120"])(
    "Should accept %s",
    (block) => {
      expect(cidrProblem(block)).toBeNull();
    },
  );

  it.each([
    ["192.0.2.0", "is not in CIDR notation"],
    ["192.0.2.1/24", "has bits set after the prefix length"],
    ["256.0.0.0/8", "invalid IPv4 address"],
    ["010.0.0.0/8", "invalid IPv4 address"],
    ["10.0.0/8", "invalid IPv4 address"],
    ["10.0.0.0/33", "invalid prefix length"],
    ["10.0.0.0/08", "invalid prefix length"],
    ["2001:db8::1/32", "has bits set after the prefix length"],
    ["2001:db8::/129", "invalid prefix length"],
    ["1::2::/64", "invalid IPv6 address"],
    ["1:2:3:4:5:6:7:8:9/128", "invalid IPv6 address"],
    ["2001:db8:g::/48", "invalid IPv6 address"],
  ])("Should refuse %s", (block, problem) => {
    expect(cidrProblem(block)).toContain(problem);
  });
});
