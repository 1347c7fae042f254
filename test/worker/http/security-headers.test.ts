import { describe, expect, it } from "vitest";
import { HTML_CONTENT_SECURITY_POLICY } from "../../../src/http/security-headers";
import { request } from "../helpers/fetch";
import { seedImage } from "../helpers/seed";

describe("Security headers", () => {
  it.each(["/v2/", "/v2/demo/hello/manifests/latest", "/v2/Bad/manifests/latest", "/no/such/path", "/status.json", `/v2/${"/".repeat(2000)}x`])(
    "Should send X-Content-Type-Options: nosniff on %s",
    async (path) => {
      await seedImage("demo/hello", "latest");
      const response = await request(path);
      await response.body?.cancel();
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    },
  );

  it("Should give the status page a strict Content-Security-Policy, and JSON none", async () => {
    const page = await request("/");
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(page.headers.get("Content-Security-Policy")).toBe(HTML_CONTENT_SECURITY_POLICY);
    expect(page.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    expect(await page.text()).not.toMatch(/<script/i);
    const json = await request("/status.json");
    await json.body?.cancel();
    expect(json.headers.get("Content-Security-Policy")).toBeNull();
  });
});
