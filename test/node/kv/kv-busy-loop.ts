/**
 * A second process on a persist dir, as `npm start`'s worker and crawler are:
 * lists, reads and writes its local KV in a loop until stdin closes (or 60 s
 * pass), then prints how many of its own calls failed.
 * Usage: kv-busy-loop.ts <persist-dir> <namespace-id>
 */
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { resourcePersistencePath } from "../../../scripts/lib/kv/local-kv";

const [persistDir, namespaceId] = process.argv.slice(2) as [string, string];
const miniflare = new Miniflare(
  convertV4MiniflareOptions({ modules: true, script: "export default {}", resourcePersistencePath: resourcePersistencePath(persistDir), kvNamespaces: { REGISTRY: namespaceId } }),
);
const kv = await miniflare.getKVNamespace("REGISTRY");
let stopped = false;
process.stdin.on("end", () => (stopped = true)).resume();
const deadline = Date.now() + 60_000;
let failures = 0;
console.log("ready");
for (let round = 0; !stopped && Date.now() < deadline; round++) {
  try {
    const page = await kv.list({ limit: 100 });
    for (const key of page.keys.slice(0, 20)) await kv.get(key.name);
    await kv.put(`loop:${round % 10}`, String(round));
  } catch {
    failures++;
  }
}
console.log(`failures ${failures}`);
await miniflare.dispose();
