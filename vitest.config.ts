import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Hosts on this machine: the loopback test servers (the mirror farm, servers a test starts). */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * The worker tests' outbound network. Requests to loopback are passed on as they are (streamed both
 * ways); any other is cut off before it leaves the machine, so the test's fetch rejects, and the
 * refused URL is logged.
 */
function loopbackOnly(incoming: IncomingMessage, outgoing: ServerResponse): void {
  const url = new URL(incoming.url ?? "/", `http://${incoming.headers.host ?? "invalid"}`);
  if (!LOOPBACK.test(url.hostname)) {
    console.error(`worker tests reach only loopback servers; refused ${incoming.method} ${url.href}`);
    incoming.socket.destroy();
    return;
  }
  const upstream = httpRequest(url, { method: incoming.method, headers: incoming.headers }, (answer) => {
    outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(outgoing);
  });
  upstream.on("error", () => incoming.socket.destroy());
  outgoing.on("close", () => upstream.destroy());
  incoming.pipe(upstream);
}

export default defineConfig({
  test: {
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // workerd's own log of every connection a test mirror drops on purpose ("Network connection lost") stays out of a green run.
            verbose: false,
            miniflare: {
              bindings: { FRONTDOOR_ENV: "development", RETRY_MEMORY: "off", ISOLATE_CACHE_MS: "0", DOWNLOAD_STATS: "memory" },
              // Worker tests reach only loopback; the module's worker keeps one retry memory and one isolate cache per
              // file, so both are off there (tests rewrite KV and read it back at once) and on in the tests' own apps
              // (test/worker/routes/blob-retries.test.ts, test/worker/store/isolate-cache.test.ts); every test starts from an empty KV (setupFiles).
              outboundService: { node: loopbackOnly },
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/worker/crawl/mirror-farm.setup.ts"],
          setupFiles: ["test/worker/clean-storage.ts"],
        },
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
