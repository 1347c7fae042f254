import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LocalKvTarget } from "../../../scripts/lib/kv/local-kv";
import { PROJECT, withTempDir } from "../publish/run-cli";

// Two Miniflares (two workerd processes) start; the writes take a few seconds on their own.
vi.setConfig({ testTimeout: 60_000 });

const NAMESPACE_ID = "0123456789abcdef0123456789abcdef";
const BUSY_LOOP = fileURLToPath(new URL("./kv-busy-loop.ts", import.meta.url));
/** Enough writes that the other process holds the database locked for some of them (a few in a hundred on an idle machine). */
const BATCHES = 100;
const BATCH = 16;

let dir: Awaited<ReturnType<typeof withTempDir>>;
beforeEach(async () => {
  dir = await withTempDir();
});
afterEach(async () => {
  await dir.remove();
});

/**
 * Starts kv-busy-loop.ts on `persistDir` in its own process group (it and its
 * workerd) and resolves once its loop runs. `stop` ends it; `kill` kills the
 * group by its id if it still runs.
 */
async function startBusyLoop(persistDir: string) {
  const child = spawn(process.execPath, ["--import", "tsx", BUSY_LOOP, persistDir, NAMESPACE_ID], { cwd: PROJECT, stdio: ["pipe", "pipe", "inherit"], detached: true });
  const closed = once(child, "close");
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe("ready");
  return {
    stop: async () => {
      child.stdin!.end();
      await closed;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    },
  };
}

describe("LocalKvTarget with another process on its persist dir", () => {
  it("Should complete every write while the other process lists, reads and writes the same local KV", async () => {
    const persist = join(dir.path, "state");
    const target = new LocalKvTarget(persist, NAMESPACE_ID);
    const kv = await target.kv();
    await kv.put("first", "1");
    const loop = await startBusyLoop(persist);
    try {
      for (let batch = 0; batch < BATCHES; batch++) {
        await Promise.all(Array.from({ length: BATCH }, (_, index) => kv.put(`blob:${batch}:${index}`, "x".repeat(1000))));
      }
      let listed = 0;
      let cursor: string | undefined;
      do {
        const page: KVNamespaceListResult<unknown, string> = await kv.list({ prefix: "blob:", ...(cursor === undefined ? {} : { cursor }) });
        listed += page.keys.length;
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor !== undefined);
      expect(listed).toBe(BATCHES * BATCH);
      await loop.stop();
    } finally {
      loop.kill();
      await target.close();
    }
  });
});
