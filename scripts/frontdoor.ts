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
import { parseMirrorConfig } from "./lib/publish/mirrors-config";
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
  mirrors: `Usage: frontdoor mirrors load <mirrors.toml> (--local <persist-dir> | --remote --namespace-id <id> [--dry-run <dir>])

Validates the mirrors file (see mirrors.example.toml) and writes it to the KV
key \`mirrors\`. Any error names its line and nothing is written.

${targetHelp(`write the bulk file wrangler would get for the key
                            \`mirrors\` into <dir> and change nothing (the namespace is not read)`)}
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
    if (dryRun === undefined && plan.unchanged) console.log(`Unchanged: ${tree} is generation ${plan.generation} as ${target.description} publishes it; nothing written (${counts}).`);
    else if (dryRun === undefined) console.log(`Published generation ${plan.generation} of ${tree} to ${target.description}: ${counts}.`);
    else if (plan.unchanged) console.log(`Dry run: ${tree} is unchanged from generation ${plan.generation} of remote KV namespace ${values["namespace-id"]}; nothing would be written.`);
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

async function mirrors(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  if (action === "--help" || action === "-h") return console.log(HELP.mirrors);
  if (action === undefined) throw new UsageError("missing action: frontdoor mirrors load <mirrors.toml>", HELP.mirrors);
  if (action !== "load") throw new UsageError(`unknown mirrors action ${JSON.stringify(action)}`, HELP.mirrors);
  const { values, positionals } = parse(rest, TARGET_OPTIONS, HELP.mirrors);
  if (values.help) return console.log(HELP.mirrors);
  const file = onePositional(positionals, "<mirrors.toml>", HELP.mirrors);
  const table = await parseMirrorConfig(await readFile(file, "utf8"), file);
  const target = await openTarget(values, HELP.mirrors);
  try {
    await target.putMirrors(table);
  } finally {
    await target.close();
  }
  const enabled = table.mirrors.filter((mirror) => mirror.enabled).length;
  console.log(`Loaded ${table.mirrors.length} mirrors (${enabled} enabled), origin ${table.origin?.baseUrl ?? "none"}, version ${table.version}, into ${target.description}.`);
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
