/**
 * frontdoor: the publisher CLI. Writes demo content, publishes an OCI image
 * layout tree to KV, and loads the mirror table. `frontdoor <command> --help`.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PublishError } from "../src/publish/errors";
import { CliError, EXIT, UsageError } from "./lib/cli/error";
import { formatBytes } from "./lib/cli/format";
import { writeDemoTree } from "./lib/stack/demo-tree";
import type { KvTarget } from "./lib/kv/kv-target";
import { LocalKvTarget } from "./lib/kv/local-kv";
import { baseUrl, parseMirrorConfig } from "./lib/publish/mirrors-config";
import { checkCandidate, formatCandidate } from "./lib/admin/check-mirror";
import { applyOverrides, formatHistory, formatList, listRows, mirrorHistory, readLiveState, readOverrides, setMirrorEnabled, unknownOverrides } from "./lib/admin/mirror-admin";
import { CRAWL_DEFAULTS } from "../src/config";
import type { MirrorTable } from "../src/mirrors/types";
import { publishTree } from "./lib/publish/publish-tree";
import { RemoteKvTarget } from "./lib/kv/remote-kv";
import { wranglerAt } from "./lib/kv/wrangler";
import { DEFAULT_WRANGLER_CONFIG, localNamespaceId } from "./lib/kv/wrangler-config";

/** The options that choose a KV target; `dryRun` says what --dry-run does for the command. */
function targetHelp(dryRun: string): string {
  return `Where to write (one of):
  --local <persist-dir>     the local KV that \`wrangler dev --persist-to <persist-dir>\` serves
                            (namespace id: the REGISTRY binding's preview_id or id in --config)
  --remote --namespace-id <id>
                            a deployed namespace, through \`wrangler kv bulk put/delete --remote\`
  --dry-run <dir>           with --remote: ${dryRun}
  --config <wrangler.toml>  wrangler configuration (default: the project's wrangler.toml)

Environment:
  FRONTDOOR_WRANGLER        the wrangler executable --remote runs (default: the project's own)`;
}

const HELP = {
  main: `Usage: frontdoor <command> [options]

Commands:
  demo <tree>                 write the demo image (demo/hello:latest) into an OCI layout tree
  publish <tree>              verify a tree and publish it to KV, then write its generation marker
  mirrors load <mirrors.toml> validate a mirrors file and load it into KV
  mirrors list                the loaded mirrors and the state the crawler gives them
  mirrors check <base_url>    run the crawler's checks against a mirror before adding it
  mirrors enable|disable <id> switch one mirror on or off without reloading the file
  mirrors history <id>        a mirror's recent checks and the blobs it is excluded for

Run \`frontdoor <command> --help\` for a command's options.`,
  demo: `Usage: frontdoor demo <tree> [--repository <name>] [--tag <tag>]

Writes a small multi-platform image (linux/amd64, linux/arm64) into <tree>, an
OCI image layout directory, created if needed. Other refs of an existing
index.json are kept; an entry of the same name is replaced.

Options:
  --repository <name>  repository name (default: demo/hello)
  --tag <tag>          tag (default: latest)
  -h, --help           show this help`,
  publish: `Usage: frontdoor publish <tree> (--local <persist-dir> | --remote --namespace-id <id> [--dry-run <dir>])

Reads the OCI image layout <tree>, verifies every digest and size, and writes
the KV entries: blobs and manifests first, then tags, tag lists and catalog,
and \`publication\` last. Then deletes the tags, tag lists, manifests and blobs
the namespace holds but the tree no longer names. Then writes frontdoor/first-seen.json and, last, the
marker frontdoor/generation into the tree (not on a dry run). The generation
is one more than the newest of the tree's marker and the namespace's publication.

${targetHelp(`write the bulk files wrangler would get into <dir>
                            and change nothing (publish still reads the namespace)`)}
  -h, --help                show this help`,
  mirrors: `Usage: frontdoor mirrors load <mirrors.toml> <target> [--dry-run <dir>]
       frontdoor mirrors list|check|enable|disable|history ... <target>
where <target> is --local <persist-dir> or --remote --namespace-id <id>.

Actions:
  load <mirrors.toml>   validate the mirrors file (see mirrors.example.toml) and write it to
                        the KV key \`mirrors\`; any error names its line and nothing is written.
                        Mirrors switched with enable/disable keep their switch.
  list                  every mirror of the loaded table with its state (up, stale, failing,
                        down, unchecked, disabled), verified and announced generation, last check
  check <base_url>      the crawler's checks against a mirror, before adding it: its marker, then
                        one GET of every blob path of the newest publication's inventory
  enable <id>           switch a mirror on, or off with disable, without editing the file:
  disable <id>          a record in \`mirrors:overrides\` and the table rewritten under a new version
  history <id>          the mirror's last checks, newest first, and the blobs it is excluded for

Options:
  --json                list, check, history: print JSON
  --note <text>         enable, disable: why, shown by list
  --blobs <n>           check: check only the first n blob paths (default: all)
  --hash-bytes <n>      check: bytes of large blobs hashed whole (default 1073741824);
                        larger ones past it get the crawler's Range probe
  --timeout-ms <n>      check: deadline of each request until its headers (default 5000)

${targetHelp(`load, enable, disable: write the bulk files wrangler would get
                            into <dir> and change nothing (the namespace is only read
                            for its switches and, for enable/disable, its table)`)}
  -h, --help                show this help`,
} as const;

const TARGET_OPTIONS = {
  local: { type: "string" },
  remote: { type: "boolean" },
  "namespace-id": { type: "string" },
  "dry-run": { type: "string" },
  config: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

function parse<O extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: O, help: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), help);
  }
}

function onePositional(positionals: string[], what: string, help: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected exactly one ${what}, got ${positionals.length}`, help);
  return positionals[0]!;
}

async function openTarget(values: { local?: string; remote?: boolean; "namespace-id"?: string; "dry-run"?: string; config?: string }, help: string): Promise<KvTarget> {
  if (values.local !== undefined && values.remote) throw new UsageError("give either --local or --remote, not both", help);
  if (values.local !== undefined) {
    if (values["namespace-id"] !== undefined || values["dry-run"] !== undefined) throw new UsageError("--namespace-id and --dry-run go with --remote", help);
    return new LocalKvTarget(values.local, await localNamespaceId(values.config ?? DEFAULT_WRANGLER_CONFIG));
  }
  if (values.remote) {
    const namespaceId = values["namespace-id"];
    if (namespaceId === undefined || !/^[0-9a-f]{32}$/.test(namespaceId)) throw new UsageError("--remote needs --namespace-id <32 hex digits>", help);
    const wrangler = process.env.FRONTDOOR_WRANGLER;
    return new RemoteKvTarget({
      namespaceId,
      dryRunDir: values["dry-run"],
      wranglerConfig: values.config,
      ...(wrangler === undefined || wrangler === "" ? {} : { wrangler: wranglerAt(wrangler) }),
    });
  }
  throw new UsageError("give --local <persist-dir> or --remote --namespace-id <id>", help);
}

async function demo(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { repository: { type: "string" }, tag: { type: "string" }, help: { type: "boolean", short: "h" } }, HELP.demo);
  if (values.help) return console.log(HELP.demo);
  const tree = onePositional(positionals, "<tree>", HELP.demo);
  const ref = await writeDemoTree(tree, { repository: values.repository, tag: values.tag });
  console.log(`Wrote ${ref} into ${tree}`);
}

async function publish(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, TARGET_OPTIONS, HELP.publish);
  if (values.help) return console.log(HELP.publish);
  const tree = onePositional(positionals, "<tree>", HELP.publish);
  const target = await openTarget(values, HELP.publish);
  try {
    const dryRun = values["dry-run"];
    const plan = await publishTree(tree, target, { writeTree: dryRun === undefined });
    const { summary } = plan;
    const counts =
      `${summary.repositories} repositories, ${summary.tags} tags, ${summary.manifests} manifests, ` +
      `${summary.blobs} blobs (${formatBytes(summary.bytes)}); ` +
      `${plan.content.length + plan.pointers.length} KV writes, ${plan.deletions.pointers.length + plan.deletions.content.length} deletions`;
    if (dryRun === undefined) console.log(`Published generation ${plan.generation} of ${tree} to ${target.description}: ${counts}.`);
    else {
      console.log(
        `Dry run: would publish generation ${plan.generation} of ${tree} to remote KV namespace ${values["namespace-id"]}; the tree marker is not written. ` +
          `Bulk files in ${resolve(dryRun)}: ${counts}.`,
      );
    }
  } finally {
    await target.close();
  }
}

const MIRRORS_OPTIONS = {
  ...TARGET_OPTIONS,
  json: { type: "boolean" },
  note: { type: "string" },
  blobs: { type: "string" },
  "hash-bytes": { type: "string" },
  "timeout-ms": { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const MIRROR_ACTIONS = new Set(["load", "list", "check", "enable", "disable", "history"]);

function positiveOption(values: Record<string, unknown>, name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (typeof text !== "string" || !Number.isSafeInteger(value) || value < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`, HELP.mirrors);
  return value;
}

async function mirrors(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  if (action === "--help" || action === "-h") return console.log(HELP.mirrors);
  if (action === undefined) throw new UsageError("missing action: frontdoor mirrors load|list|check|enable|disable|history", HELP.mirrors);
  if (!MIRROR_ACTIONS.has(action)) throw new UsageError(`unknown mirrors action ${JSON.stringify(action)}`, HELP.mirrors);
  const { values, positionals } = parse(rest, MIRRORS_OPTIONS, HELP.mirrors);
  if (values.help) return console.log(HELP.mirrors);
  const writes = action === "load" || action === "enable" || action === "disable";
  if (!writes && values["dry-run"] !== undefined) throw new UsageError(`--dry-run goes with load, enable and disable; ${action} writes nothing`, HELP.mirrors);
  if (action === "list" && positionals.length > 0) throw new UsageError(`mirrors list takes no argument, got ${positionals.length}`, HELP.mirrors);
  const operand = action === "list" ? "" : onePositional(positionals, action === "load" ? "<mirrors.toml>" : action === "check" ? "<base_url>" : "<id>", HELP.mirrors);
  const table = action === "load" ? await parseMirrorConfig(await readFile(operand, "utf8"), operand) : null;
  const candidate = action === "check" ? candidateUrl(operand) : null;
  const hashBytes = positiveOption(values, "hash-bytes", 1024 * 1024 * 1024);
  const timeoutMs = positiveOption(values, "timeout-ms", CRAWL_DEFAULTS.timeoutMs);
  const blobs = values.blobs === undefined ? undefined : positiveOption(values, "blobs", 1);
  const target = await openTarget(values, HELP.mirrors);
  try {
    if (table !== null) return await loadMirrors(target, table);
    if (action === "list") {
      const state = await readLiveState(target);
      return console.log(values.json ? JSON.stringify({ publication: state.publication?.generation ?? null, version: state.table?.version ?? null, mirrors: listRows(state) }, null, 2) : formatList(state));
    }
    if (action === "history") {
      const history = mirrorHistory(await readLiveState(target), operand);
      return console.log(values.json ? JSON.stringify(history, null, 2) : formatHistory(history));
    }
    if (candidate !== null) {
      const report = await checkCandidate(candidate, target, {
        hashBytes,
        ...(blobs === undefined ? {} : { blobs }),
        limits: { timeoutMs, minBytesPerSecond: CRAWL_DEFAULTS.minBytesPerSecond, now: Date.now },
      });
      console.log(values.json ? JSON.stringify(report, null, 2) : formatCandidate(report));
      if ("failure" in report.marker || report.failures.length > 0) throw new CliError(`${candidate} did not pass the crawler's checks`);
      return;
    }
    const enabled = action === "enable";
    const { table: updated, changed } = await setMirrorEnabled(target, operand, enabled, { now: new Date(), ...(values.note === undefined ? {} : { note: values.note }) });
    console.log(
      `${changed ? (enabled ? "Enabled" : "Disabled") : `Already ${enabled ? "enabled" : "disabled"}; kept as a switch:`} mirror ${operand} in ${target.description}, table version ${updated.version}. ` +
        (enabled ? "The crawler checks it again from its next run." : "Selection stops sending clients to it as soon as isolates see the new version; the crawler skips it from its next run."),
    );
  } finally {
    await target.close();
  }
}

/** A candidate's base URL under the mirrors file's rules for `base_url`. */
function candidateUrl(text: string): string {
  const parsed = baseUrl.safeParse(text);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join("; "), HELP.mirrors);
  return parsed.data;
}

async function loadMirrors(target: KvTarget, file: MirrorTable): Promise<void> {
  const overrides = await readOverrides(target);
  const table = await applyOverrides(file, overrides);
  await target.putMirrors(table);
  const enabled = table.mirrors.filter((mirror) => mirror.enabled).length;
  console.log(`Loaded ${table.mirrors.length} mirrors (${enabled} enabled), origin ${table.origin?.baseUrl ?? "none"}, version ${table.version}, into ${target.description}.`);
  const applied = overrides.filter((override) => table.mirrors.some((mirror) => mirror.id === override.id));
  if (applied.length > 0) console.log(`Kept the switches of ${applied.map((override) => `${override.id} (${override.enabled ? "enabled" : "disabled"})`).join(", ")}; \`frontdoor mirrors enable|disable\` changes them.`);
  const unknown = unknownOverrides(table, overrides);
  if (unknown.length > 0) console.log(`Switches for mirrors not in the file are kept but apply to nothing: ${unknown.join(", ")}.`);
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = { demo, publish, mirrors };

/** Runs the CLI; returns the exit code: 0 done, 1 failed, 2 called wrongly. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      console.log(HELP.main);
      return command === undefined ? EXIT.usage : 0;
    }
    const run = COMMANDS[command];
    if (run === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}`, HELP.main);
    await run(args);
    return 0;
  } catch (caught) {
    const error = asCliError(caught);
    const message = error instanceof Error ? error.message : String(error);
    console.error(`frontdoor ${command}: ${message}${error instanceof CliError && error.help !== null ? `\n\n${error.help}` : ""}`);
    return error instanceof CliError ? error.exitCode : EXIT.failed;
  }
}

/** The publisher's errors come from src/, which knows nothing of CLIs: this is where they get their exit code. */
function asCliError(error: unknown): unknown {
  return error instanceof PublishError ? new CliError(`${error.code}: ${error.message}`, { cause: error }) : error;
}

process.exitCode = await main(process.argv.slice(2));
