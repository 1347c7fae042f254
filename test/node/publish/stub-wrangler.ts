import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * A stand-in for `wrangler kv ... --remote`, answering as the deployed API
 * does: `kv key get` of a missing key exits 1 with the API's 404 error, not
 * "Value not found". The namespace lives in `kv.json` beside the script; every
 * call's arguments are appended to `calls.jsonl`.
 */
const SCRIPT = `#!/usr/bin/env node
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
const dir = dirname(process.argv[1]);
const args = process.argv.slice(2);
appendFileSync(join(dir, "calls.jsonl"), JSON.stringify(args) + "\\n");
const kvFile = join(dir, "kv.json");
const kv = JSON.parse(readFileSync(kvFile, "utf8"));
const option = (name) => { const at = args.indexOf(name); return at < 0 ? undefined : args[at + 1]; };
if (!args.includes("--remote")) { console.error("stub wrangler: only --remote"); process.exit(2); }
const [group, command, sub, operand] = args;
if (group === "kv" && command === "key" && sub === "list") {
  const prefix = option("--prefix") ?? "";
  console.log(JSON.stringify(Object.keys(kv).filter((key) => key.startsWith(prefix)).sort().map((name) => ({ name })), null, 2));
} else if (group === "kv" && command === "key" && sub === "get") {
  if (!(operand in kv)) {
    console.error("X [ERROR] A request to the Cloudflare API (/accounts/0/storage/kv/namespaces/0/values/" + operand + ") failed.\\n\\n  get: 'key not found' [code: 10009]");
    process.exit(1);
  }
  process.stdout.write(kv[operand] + "\\n");
} else if (group === "kv" && command === "bulk" && sub === "put") {
  for (const entry of JSON.parse(readFileSync(operand, "utf8"))) kv[entry.key] = entry.base64 ? Buffer.from(entry.value, "base64").toString("latin1") : entry.value;
  writeFileSync(kvFile, JSON.stringify(kv));
} else if (group === "kv" && command === "bulk" && sub === "delete" && args.includes("--force")) {
  const file = args.find((arg, i) => i > 3 && arg.endsWith(".json"));
  for (const key of JSON.parse(readFileSync(file, "utf8"))) delete kv[key];
  writeFileSync(kvFile, JSON.stringify(kv));
} else {
  console.error("stub wrangler: unexpected call " + args.join(" "));
  process.exit(2);
}
`;

export interface StubWrangler {
  /** The executable to pass as the wrangler. */
  path: string;
  /** What the stub namespace holds now, key -> value. */
  kv(): Promise<Record<string, string>>;
  /** The arguments of every call so far, in order. */
  calls(): Promise<string[][]>;
}

/** Writes a stub wrangler into `dir`, its namespace holding `kv`. */
export async function stubWrangler(dir: string, kv: Record<string, string> = {}): Promise<StubWrangler> {
  const path = join(dir, "wrangler-stub.mjs");
  await writeFile(path, SCRIPT);
  await chmod(path, 0o755);
  await writeFile(join(dir, "kv.json"), JSON.stringify(kv));
  await writeFile(join(dir, "calls.jsonl"), "");
  return {
    path,
    kv: async () => JSON.parse(await readFile(join(dir, "kv.json"), "utf8")),
    calls: async () =>
      (await readFile(join(dir, "calls.jsonl"), "utf8"))
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line)),
  };
}
