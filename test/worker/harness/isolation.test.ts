import { env } from "cloudflare:test";
import { inject, describe, expect, it } from "vitest";

// The two rules vitest.config.ts sets for every worker test.
describe("worker test harness", () => {
  describe("clean storage", () => {
    // The tests run in order; the second would see the first's key if storage carried over.
    it("Should let one test write a key", async () => {
      await env.REGISTRY.put("harness/left-behind", "x");
      expect(await env.REGISTRY.get("harness/left-behind")).toBe("x");
    });

    it("Should start the next test from an empty KV", async () => {
      expect((await env.REGISTRY.list()).keys).toEqual([]);
    });
  });

  describe("outbound network", () => {
    it("Should refuse a fetch to an address off this machine", async () => {
      // TEST-NET-1 (RFC 5737): no host answers there, and the request must not even be tried.
      await expect(fetch("http://192.0.2.1/")).rejects.toThrow();
    });

    it("Should reach the loopback servers a test was given", async () => {
      const response = await fetch(`${inject("mirrorFarm")}/m/none/x`);
      expect(response.status).toBe(404);
    });
  });
});
