import { resolve } from "node:path";
import { constants } from "node:os";
import { parseArgs } from "node:util";
import { ManifestError } from "./lib/pull/manifest";
import { MetalinkError } from "./lib/pull/metalink";
import { streamProgress } from "./lib/pull/progress";
import { pullImage, PullError } from "./lib/pull/puller";
import { ImageReferenceError, parseImageReference, parseRepositoryPath, type ImageReference } from "./lib/pull/reference";
import { SigningError } from "./lib/signing/errors";
import { loadVerifyKeys } from "./lib/signing/verify-keys";
import { LayoutTargetError } from "./lib/pull/staging";

const USAGE = `usage: npm run pull -- [--key <pem>] [--gpg-key <file>] [--identity <registry>] <front door>/<repository>[:tag|@digest] <directory>
       npm run pull -- --mirror <tree URL> (--key <pem> | --gpg-key <file>) <repository>[:tag|@digest] <directory>
  <front door> is http(s)://host[:port], or host[:port] (plain HTTP on loopback).
  Writes an OCI image layout to <directory>, e.g. for skopeo copy oci:<directory>:<tag> ...
  --key <pem>         require a sigstore signature by this public key, checked before anything else is fetched
  --gpg-key <file>    require a lookaside (GPG) signature by one of these OpenPGP public keys
  --identity <host>   require the signature to name this registry host (default: any host)
  --mirror <url>      resolve the tag from this mirror's index.json and pull everything from it alone
  FRONTDOOR_DEBUG=1 prints the stack of an unexpected error.`;

const KNOWN_ERRORS = [PullError, ImageReferenceError, LayoutTargetError, ManifestError, MetalinkError, SigningError];

/** The signal that stopped the pull, once one has. */
class Interrupted extends Error {
  constructor(readonly signal: "SIGINT" | "SIGTERM") {
    super(`interrupted by ${signal}`);
  }
}

/** Aborts `controller` with an `Interrupted` on SIGINT or SIGTERM; a second signal changes nothing. */
function abortOnSignals(controller: AbortController): () => void {
  const handlers = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const handler = () => {
      if (!controller.signal.aborted) controller.abort(new Interrupted(signal));
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}

function errorLine(error: unknown): string {
  if (KNOWN_ERRORS.some((type) => error instanceof type)) return (error as Error).message;
  if (process.env.FRONTDOOR_DEBUG === "1" && error instanceof Error && error.stack !== undefined) return error.stack;
  return error instanceof Error ? `${error.message} (set FRONTDOOR_DEBUG=1 for the stack)` : String(error);
}

/** Reference patched client: pulls an image through the front door's metalinks (docs/metalink.md). */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { key: { type: "string" }, "gpg-key": { type: "string" }, identity: { type: "string" }, mirror: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch {
    parsed = null;
  }
  if (parsed === null || parsed.positionals.length !== 2 || parsed.values.help) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { values } = parsed;
  const [reference, directory] = parsed.positionals as [string, string];
  const interruption = new AbortController();
  const stopListening = abortOnSignals(interruption);
  try {
    const mirror = values.mirror;
    const image: ImageReference = mirror === undefined ? parseImageReference(reference) : { registry: new URL(mirror).origin, ...parseRepositoryPath(reference) };
    const keyed = values.key !== undefined || values["gpg-key"] !== undefined;
    const verify = keyed ? await loadVerifyKeys({ key: values.key, gpgKey: values["gpg-key"], identity: values.identity }) : undefined;
    // `npm run` starts scripts in the package root; a relative directory means the caller's own.
    const target = resolve(process.env.INIT_CWD ?? process.cwd(), directory);
    const result = await pullImage({ image, target, progress: streamProgress(process.stderr), signal: interruption.signal, verify, mirror });
    process.stdout.write(`${result.digest}\n`);
    return 0;
  } catch (error) {
    if (error instanceof Interrupted) {
      // pullImage has removed its staging directory before rejecting.
      process.stderr.write(`\n${error.message}; nothing was written\n`);
      return 128 + constants.signals[error.signal];
    }
    process.stderr.write(`error: ${errorLine(error)}\n`);
    return 1;
  } finally {
    stopListening();
  }
}

process.exitCode = await main(process.argv.slice(2));
