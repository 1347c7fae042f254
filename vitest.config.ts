import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: { FRONTDOOR_ENV: "development" } },
          }),
        ],
        test: { name: "worker", include: ["test/worker/**/*.test.ts"], globalSetup: ["test/worker/crawl/mirror-farm.setup.ts"] },
      },
      {
        test: { name: "node", include: ["test/node/**/*.test.ts"], environment: "node" },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/e2e/tools.setup.ts"],
          environment: "node",
          fileParallelism: false,
          // Projects run in parallel unless grouped: real daemons and browsers start only after the worker and node projects finish.
          sequence: { groupOrder: 1 },
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
