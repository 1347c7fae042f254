/**
 * frontdoor: the publisher CLI. Writes demo content, publishes an OCI image
 * layout tree to KV, and loads the mirror table. `frontdoor <command> --help`.
 */
import { resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { PublishError } from "../src/publish/errors";
import { checkKvWriteLimits } from "../src/publish/safety";
import { mirrorsEntry } from "../src/store/encode";
import { readTextFile } from "./lib/cli/text-file";
import { CliError, EXIT, UsageError } from "./lib/cli/error";
import { Importer } from "./lib/import/import-images";
import { ImportListError, parseImportList, parseImportSource, type ImportSource } from "./lib/import/import-list";
import { formatBytes } from "../src/render/bytes";
import { writeDemoTree } from "./lib/stack/demo-tree";
import type { KvTarget } from "./lib/kv/kv-target";
import { LocalKvTarget, preparePersistDir } from "./lib/kv/local-kv";
import { baseUrl, parseMirrorConfig } from "./lib/publish/mirrors-config";
import { checkCandidate, formatCandidate } from "./lib/admin/check-mirror";
import { applyOverrides, formatHistory, formatList, listRows, mirrorHistory, readLiveState, readOverrides, setMirrorEnabled, unknownOverrides } from "./lib/admin/mirror-admin";
import { CRAWL_DEFAULTS } from "../src/config";
import type { MirrorTable } from "../src/mirrors/types";
import { publishTree } from "./lib/publish/publish-tree";
import { parseSetsConfig } from "./lib/publish/sets-config";
import { RemoteKvTarget } from "./lib/kv/remote-kv";
import { wranglerAt } from "./lib/kv/wrangler";
import { DEFAULT_WRANGLER_CONFIG, localNamespaceId } from "./lib/kv/wrangler-config";
import { parseImageReference } from "./lib/pull/reference";
import { SigningError } from "./lib/signing/errors";
import { loadSigningKey, PASSPHRASE_ENV, readPassphrase, writeKeyPair } from "./lib/signing/key-files";
import { adoptLookasideFiles, signTree, type SignTreeOptions } from "./lib/signing/sign-tree";
import { FrontDoorSource, MirrorSource } from "./lib/signing/sources";
import { resolveVerified } from "./lib/signing/verify-image";
import { loadVerifyKeys } from "./lib/signing/verify-keys";

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

const SIGN_HELP = `Signing (docs/signing.md):
  --identity <registry>     the registry host clients pull from, e.g. registry.example.org:
                            signatures vouch for <registry>/<repository>:<tag>
  --sign-key <file>         an encrypted sigstore private key (frontdoor keygen, cosign):
                            adds sigstore attachments and writes frontdoor/signing-key.pub
  --passphrase-file <file>  the key's passphrase (first line); else ${PASSPHRASE_ENV}
  --gpg-key <id>            a GPG secret key (no passphrase, or cached by gpg-agent): adds
                            lookaside files signatures/<repository>@sha256=<hex>/signature-<n>
  --gpg-home <dir>          GNUPGHOME for --gpg-key
  --ref <repository:tag>    sign only this ref (repeatable); default every image ref`;

const HELP = {
  main: `Usage: frontdoor <command> [options]

Commands:
  demo <tree>                 write the demo image (demo/hello:latest) into an OCI layout tree
  publish <tree>              verify a tree and publish it to KV, then write its generation marker
  mirrors load <mirrors.toml> validate a mirrors file and load it into KV
  import <tree> <image>...    copy images from registries into an OCI layout tree (over skopeo)
  keygen                      write a sigstore key pair (encrypted private key, PEM public key)
  sign <tree>                 sign a tree's images in place: sigstore attachments and/or GPG lookaside files
  pin <registry>/<repo>:<tag> resolve a tag, verify its signature, print <registry>/<repo>@<digest>
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
  publish: `Usage: frontdoor publish <tree> [--sets <sets.toml>] (--local <persist-dir> | --remote --namespace-id <id> [--dry-run <dir>]) [--allow-drop] [signing options]

Reads the OCI image layout <tree>, verifies every digest and size, and writes
the KV entries: blobs and manifests first, then tags, tag lists and catalog,
and \`publication\` last. Then deletes the tags, tag lists, manifests and blobs
the namespace holds but the tree no longer names. Then writes frontdoor/first-seen.json and, last, the
marker frontdoor/generation into the tree (not on a dry run). The generation
is one more than the newest of the tree's marker and the namespace's publication.
With --sign-key or --gpg-key the tree is signed first, as by \`frontdoor sign\`.
Signatures already in the tree (sigstore attachment tags, lookaside files) are
published with it.

Before the first write it refuses a tree whose index.json names no refs, one
that would stop serving more than half of the image tags served now (signature
and attachment tags not counted), of the lookaside signatures or of the
attachment tags, any entry over Workers KV's size limits (25 MiB values,
512-byte keys), and a tree file it could not write, naming it.

With --sets, each content set of the file (see sets.example.toml) also gets
frontdoor/sets/<name>/ in the tree: index.json, the rsync --files-from list
\`files\`, and its marker \`generation\`, written with the tree's marker.

  --sets <sets.toml>        the operator's content sets
${targetHelp(`write the bulk files wrangler would get into <dir>
                            and change nothing (publish still reads the namespace)`)}
  --allow-drop              publish even when that stops serving most or all tags or signatures

${SIGN_HELP}
  -h, --help                show this help`,
  keygen: `Usage: frontdoor keygen --output-prefix <prefix> [--passphrase-file <file>]

Writes a new ECDSA P-256 key pair: <prefix>.private, encrypted with the
passphrase in the format cosign and \`skopeo copy --sign-by-sigstore-private-key\`
read (mode 0600), and <prefix>.pub, the PEM public key for policies and
\`frontdoor pin --key\`. Refuses to replace existing files.

Options:
  --output-prefix <prefix>  where to write the two files
  --passphrase-file <file>  the passphrase (first line); else ${PASSPHRASE_ENV}
  -h, --help                show this help`,
  sign: `Usage: frontdoor sign <tree> --identity <registry> [--sign-key <file>] [--gpg-key <id>] [--ref <repository:tag>]...

Signs each image ref of the OCI layout <tree> (every ref whose tag is not a
sha256-<hex>.sig attachment), its index and every manifest the index lists,
before the tree is published. A signature by the same key that is already
there is kept and not made again. Lookaside files other tools wrote under
signatures/ get their blob copies. With no key, only that is done.

${SIGN_HELP}
  -h, --help                show this help`,
  pin: `Usage: frontdoor pin <registry>/<repository>[:tag] (--key <pem> | --gpg-key <file>) [--mirror <url>] [--identity <registry>]

Resolves the tag through the front door at <registry> (or through the tree at
--mirror, using its index.json), verifies the manifest's signature, and prints
<registry>/<repository>@sha256:<hex>. docker pull and ctr pull of that
reference check every byte against the digest, so they get the signed image.

Options:
  --key <pem>               the sigstore public key (e.g. from GET /signing-key.pub, checked out of band)
  --gpg-key <file>          OpenPGP public keys for lookaside signatures
  --mirror <url>            resolve and verify through this mirror's tree instead of the front door
  --identity <registry>     require the signature to name this registry host (default: any host)
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
  import: `Usage: frontdoor import <tree> (--list <file> | <registry>/<repository>:<tag>...) [--insecure] [--authfile <file>]

Copies each image, every platform, from its registry into the OCI image layout
<tree> (created if needed) with skopeo, and names it <repository>:<tag> in
index.json, the ref names \`frontdoor publish\` reads. With each image come the
tags the source keeps for it and for each of its platform manifests: cosign's
signature, attestation and SBOM tags (sha256-<hex>.sig, .att, .sbom) and the
OCI referrers tag (sha256-<hex>). An image the tree already holds whole is not
fetched again, and skopeo reuses every layer the tree has. One line of progress
per image. Run \`frontdoor publish <tree>\` afterwards.

Options:
  --list <file>        images to copy, one a line: <registry>/<repository>:<tag> [<tree repository>];
                       the second word names it otherwise in the tree; # starts a comment
  --insecure           plain HTTP or unverified TLS to the source registries (a local registry)
  --authfile <file>    registry credentials (containers-auth.json; default: skopeo's own)
  -h, --help           show this help`,
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
    // An empty path would resolve to the current directory.
    if (values.local.trim() === "") throw new UsageError(`--local needs a persist directory, got ${JSON.stringify(values.local)}`, help);
    const namespaceId = await localNamespaceId(values.config ?? DEFAULT_WRANGLER_CONFIG);
    await preparePersistDir(values.local);
    return new LocalKvTarget(values.local, namespaceId);
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

const SIGN_OPTIONS = {
  identity: { type: "string" },
  "sign-key": { type: "string" },
  "passphrase-file": { type: "string" },
  "gpg-key": { type: "string" },
  "gpg-home": { type: "string" },
  ref: { type: "string", multiple: true },
} as const satisfies ParseArgsConfig["options"];

type SignValues = { identity?: string; "sign-key"?: string; "passphrase-file"?: string; "gpg-key"?: string; "gpg-home"?: string; ref?: string[] };

/** The signing options given, or null when neither key was. */
async function signOptions(values: SignValues, help: string): Promise<SignTreeOptions | null> {
  const signKey = values["sign-key"];
  const gpgKey = values["gpg-key"];
  if (signKey === undefined && gpgKey === undefined) {
    if (values.identity !== undefined || values.ref !== undefined) throw new UsageError("--identity and --ref go with --sign-key or --gpg-key", help);
    return null;
  }
  if (values.identity === undefined || !/^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/.test(values.identity)) {
    throw new UsageError("signing needs --identity <registry host[:port]>, the name clients pull the images by", help);
  }
  const gpgHome = values["gpg-home"];
  return {
    registry: values.identity,
    ...(signKey === undefined ? {} : { sigstoreKey: await loadSigningKey(signKey, await readPassphrase(values["passphrase-file"])) }),
    ...(gpgKey === undefined ? {} : { gpg: { keyId: gpgKey, ...(gpgHome === undefined ? {} : { homedir: gpgHome }) } }),
    ...(values.ref === undefined ? {} : { only: new Set(values.ref) }),
  };
}

async function signAndReport(tree: string, options: SignTreeOptions): Promise<void> {
  for (const ref of await signTree(tree, options)) {
    const added = ref.added.length === 0 ? "already signed" : `signed (${ref.added.join(", ")})`;
    console.log(`${options.registry}/${ref.repository}:${ref.tag}@${ref.digest}: ${added}`);
  }
}

async function sign(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { ...SIGN_OPTIONS, help: { type: "boolean", short: "h" } }, HELP.sign);
  if (values.help) return console.log(HELP.sign);
  const tree = onePositional(positionals, "<tree>", HELP.sign);
  const adopted = await adoptLookasideFiles(tree);
  if (adopted > 0) console.log(`Gave ${adopted} lookaside signature file(s) their blob copies`);
  const options = await signOptions(values, HELP.sign);
  if (options !== null) await signAndReport(tree, options);
}

async function keygen(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { "output-prefix": { type: "string" }, "passphrase-file": { type: "string" }, help: { type: "boolean", short: "h" } }, HELP.keygen);
  if (values.help) return console.log(HELP.keygen);
  if (positionals.length > 0) throw new UsageError("keygen takes no positional arguments", HELP.keygen);
  const prefix = values["output-prefix"];
  if (prefix === undefined) throw new UsageError("give --output-prefix <prefix>", HELP.keygen);
  const paths = await writeKeyPair(prefix, await readPassphrase(values["passphrase-file"]));
  console.log(`Wrote ${paths.privateKey} (encrypted private key) and ${paths.publicKey} (public key)`);
}

async function pin(args: string[]): Promise<void> {
  const options = { key: { type: "string" }, "gpg-key": { type: "string" }, mirror: { type: "string" }, identity: { type: "string" }, help: { type: "boolean", short: "h" } } as const;
  const { values, positionals } = parse(args, options, HELP.pin);
  if (values.help) return console.log(HELP.pin);
  const image = parseImageReference(onePositional(positionals, "<registry>/<repository>[:tag]", HELP.pin));
  if (values.key === undefined && values["gpg-key"] === undefined) throw new UsageError("give --key <pem> or --gpg-key <file> to verify with", HELP.pin);
  const keys = await loadVerifyKeys({ key: values.key, gpgKey: values["gpg-key"], identity: values.identity });
  const source = values.mirror === undefined ? new FrontDoorSource(image.registry) : new MirrorSource(values.mirror);
  const { manifest, signatures } = await resolveVerified(source, image, keys);
  console.error(`${image.repository}:${image.reference} is ${manifest.descriptor.digest}, signed as ${[...new Set(signatures.map((s) => s.claim.dockerReference))].join(", ")} (${[...new Set(signatures.map((s) => s.form))].join(", ")})`);
  console.log(`${new URL(image.registry).host}/${image.repository}@${manifest.descriptor.digest}`);
}

async function publish(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { ...TARGET_OPTIONS, ...SIGN_OPTIONS, sets: { type: "string" }, "allow-drop": { type: "boolean" } }, HELP.publish);
  if (values.help) return console.log(HELP.publish);
  const tree = onePositional(positionals, "<tree>", HELP.publish);
  const signing = await signOptions(values, HELP.publish);
  const setsFile = values.sets;
  const sets = setsFile === undefined ? undefined : parseSetsConfig(await readTextFile(resolve(setsFile), "sets file"), setsFile);
  const target = await openTarget(values, HELP.publish);
  try {
    if (signing !== null) await signAndReport(tree, signing);
    const dryRun = values["dry-run"];
    const plan = await publishTree(tree, target, { writeTree: dryRun === undefined, allowDrop: values["allow-drop"] ?? false, warn: (message) => console.error(`frontdoor publish: ${message}`), ...(sets === undefined ? {} : { sets }) });
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
    if (plan.removedSets.length > 0) console.log(`Removed the folders of sets this publication does not have: ${plan.removedSets.map((name) => `frontdoor/sets/${name}/`).join(", ")}.`);
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
  const table = action === "load" ? await parseMirrorConfig(await readTextFile(operand, "mirrors file"), operand) : null;
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
  // Checked here for every target: a remote bulk upload would otherwise send wrangler a value KV refuses.
  checkKvWriteLimits([mirrorsEntry(table)]);
  await target.putMirrors(table);
  const enabled = table.mirrors.filter((mirror) => mirror.enabled).length;
  console.log(`Loaded ${table.mirrors.length} mirrors (${enabled} enabled), origin ${table.origin?.baseUrl ?? "none"}, version ${table.version}, into ${target.description}.`);
  const applied = overrides.filter((override) => table.mirrors.some((mirror) => mirror.id === override.id));
  if (applied.length > 0) console.log(`Kept the switches of ${applied.map((override) => `${override.id} (${override.enabled ? "enabled" : "disabled"})`).join(", ")}; \`frontdoor mirrors enable|disable\` changes them.`);
  const unknown = unknownOverrides(table, overrides);
  if (unknown.length > 0) console.log(`Switches for mirrors not in the file are kept but apply to nothing: ${unknown.join(", ")}.`);
}

async function importImages(args: string[]): Promise<void> {
  const options = { list: { type: "string" }, insecure: { type: "boolean" }, authfile: { type: "string" }, help: { type: "boolean", short: "h" } } as const;
  const { values, positionals } = parse(args, options, HELP.import);
  if (values.help) return console.log(HELP.import);
  const [tree, ...images] = positionals;
  if (tree === undefined) throw new UsageError("expected <tree>", HELP.import);
  if ((values.list === undefined) === (images.length === 0)) throw new UsageError("give the images either with --list <file> or as arguments", HELP.import);
  let sources: ImportSource[];
  try {
    sources = values.list === undefined ? images.map((image) => parseImportSource(image)) : parseImportList(await readTextFile(values.list, "import list"), values.list);
  } catch (error) {
    if (error instanceof ImportListError && values.list === undefined) throw new UsageError(error.message, HELP.import);
    throw error;
  }
  const importer = new Importer(tree, { insecure: values.insecure, authfile: values.authfile, progress: (line) => console.log(line) });
  const imported = await importer.importAll(sources);
  const all = imported.flatMap((ref) => [ref, ...ref.companions]);
  const fetched = all.reduce((sum, ref) => sum + ref.fetchedBytes, 0);
  const unchanged = all.filter((ref) => ref.outcome === "unchanged").length;
  console.log(
    `Imported ${imported.length} images and ${all.length - imported.length} signatures and referrers into ${tree}: ` +
      `${all.reduce((sum, ref) => sum + ref.fetchedBlobs, 0)} new blobs (${formatBytes(fetched)}), ${unchanged} refs unchanged. Next: frontdoor publish ${tree}.`,
  );
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = { demo, publish, mirrors, import: importImages, keygen, sign, pin };

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

/** The publisher's errors (from src/, which knows nothing of CLIs) get their exit code here; they and signing errors are printed with their code. */
function asCliError(error: unknown): unknown {
  return error instanceof PublishError || error instanceof SigningError ? new CliError(`${error.code}: ${error.message}`, { cause: error }) : error;
}

process.exitCode = await main(process.argv.slice(2));
