import { readFile } from "node:fs/promises";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { checkDeployment, PLACEHOLDER_NAMESPACE_ID } from "../../../scripts/lib/deploy/checklist";
import { DEFAULT_WRANGLER_CONFIG } from "../../../scripts/lib/kv/wrangler-config";

const REAL_ID = "0123456789abcdef0123456789abcdef";

function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "registry-frontdoor",
    vars: { FRONTDOOR_ENV: "production" },
    kv_namespaces: [{ binding: "REGISTRY", id: REAL_ID }],
    triggers: { crons: ["*/5 * * * *"] },
    routes: [{ pattern: "registry.example.org", custom_domain: true }],
    observability: { enabled: true },
    ...overrides,
  };
}

const errors = (toml: Record<string, unknown>, environment = ""): string[] =>
  checkDeployment(toml, environment, "wrangler.toml").filter((finding) => finding.level === "error").map((finding) => finding.message);

describe("checkDeployment", () => {
  it("Should pass a production configuration with a real namespace id, a cron and a route", () => {
    expect(checkDeployment(config(), "", "wrangler.toml")).toEqual([]);
  });

  it("Should refuse the project's own wrangler.toml for its placeholder namespace id, and say what to do", async () => {
    const toml = parse(await readFile(DEFAULT_WRANGLER_CONFIG, "utf8")) as Record<string, unknown>;
    const found = errors(toml);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`still the placeholder ${PLACEHOLDER_NAMESPACE_ID}`);
    expect(found[0]).toContain("npx wrangler kv namespace create REGISTRY");
  });

  it.each([
    ["a namespace id that is not 32 hex digits", { kv_namespaces: [{ binding: "REGISTRY", id: "my-namespace" }] }, "not 32 hex digits"],
    ["no REGISTRY binding", { kv_namespaces: [] }, 'binding = "REGISTRY"'],
    ["development mode", { vars: { FRONTDOOR_ENV: "development" } }, 'FRONTDOOR_ENV is "development"'],
    ["a dev client location", { vars: { DEV_CLIENT_LOCATION: '{"country":"DE"}' } }, "DEV_CLIENT_LOCATION is a development setting"],
    ["no cron", { triggers: { crons: [] } }, "crawler would never run"],
  ])("Should refuse %s", (_what, overrides, message) => {
    expect(errors(config(overrides)).join("\n")).toContain(message);
  });

  it("Should warn, not refuse, when the worker has no route and no workers.dev address", () => {
    const { routes: _routes, ...unrouted } = config();
    expect(checkDeployment(unrouted, "", "wrangler.toml")).toEqual([{ level: "warning", message: expect.stringContaining("answers no request") }]);
  });

  it("Should read an environment's vars and namespaces from it and its cron and routes from the top level", () => {
    const toml = config({ env: { staging: { vars: { FRONTDOOR_ENV: "production" }, kv_namespaces: [{ binding: "REGISTRY", id: REAL_ID.replace("0", "f") }] } } });
    expect(checkDeployment(toml, "staging", "wrangler.toml")).toEqual([]);
    expect(errors(config({ env: { staging: {} } }), "staging").join("\n")).toContain('no [[kv_namespaces]] entry with binding = "REGISTRY"');
    expect(errors(config(), "prod").join("\n")).toContain("has no [env.prod]");
  });
});
