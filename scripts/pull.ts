import { resolve } from "node:path";
import { constants } from "node:os";
import { parseArgs } from "node:util";
import { CliError, EXIT, UsageError } from "./lib/cli/error";
import { streamProgress } from "./lib/pull/progress";
import { pullImage } from "./lib/pull/puller";
import { parseImageReference, parseRepositoryPath, type ImageReference } from "./lib/pull/reference";
import { loadVerifyKeys } from "./lib/signing/verify-keys";

const USAGE = `usage: npm run pull -- [--key <pem>] [--gpg-key <file>] [--identity <registry>] <front door>/<repository>[:tag|@digest] <directory>
       npm run pull -- --mirror <tree URL> (--key <pem> | --gpg-key <file>) <repository>[:tag|@digest] <directory>
  <front door> is http(s)://host[:port], or host[:port] (plain HTTP on loopback).
  Writes an OCI image layout to <directory>, e.g. for skopeo copy oci:<directory>:<tag> ...
  --key <pem>         require a sigstore signature by this public key, checked before anything else is fetched
  --gpg-key <file>    require a lookaside (GPG) signature by one of these OpenPGP public keys
  --identity <host>   require the signature to name this registry host (default: any host)
  --mirror <url>      resolve the tag from this mirror's index.json and pull everything from it alone
  FRONTDOOR_DEBUG=1 prints the stack of an unexpected error.`;

/** The signal that stopped the pull, once one has; pullImage removes its staging directory before rejecting with it. */
class Interrupted extends CliError {
  constructor(signal: "SIGINT" | "SIGTERM") {
    super(`interrupted by ${signal}; nothing was written`, { exitCode: 128 + constants.signals[signal] });
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
  if (error instanceof CliError) return error.message;
  if (process.env.FRONTDOOR_DEBUG === "1" && error instanceof Error && error.stack !== undefined) return error.stack;
  return error instanceof Error ? `${error.message} (set FRONTDOOR_DEBUG=1 for the stack)` : String(error);
}

/** Reference patched client: pulls an image through the front door's metalinks (docs/metalink.md). */
async function main(argv: string[]): Promise<number> {
  const interruption = new AbortController();
  const stopListening = abortOnSignals(interruption);
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { key: { type: "string" }, "gpg-key": { type: "string" }, identity: { type: "string" }, mirror: { type: "string" }, help: { type: "boolean", short: "h" } },
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error), USAGE);
    }
    if (parsed.values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (parsed.positionals.length !== 2) throw new UsageError(`expected <reference> <directory>, got ${parsed.positionals.length} arguments`, USAGE);
    const { values } = parsed;
    const [reference, directory] = parsed.positionals as [string, string];
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
    // A signal may stop a progress line midway; its message starts on a line of its own.
    if (error instanceof Interrupted) process.stderr.write("\n");
    if (error instanceof UsageError) process.stderr.write(`${error.help}\n\nerror: ${error.message}\n`);
    else process.stderr.write(`error: ${errorLine(error)}\n`);
    return error instanceof CliError ? error.exitCode : EXIT.failed;
  } finally {
    stopListening();
  }
}

process.exitCode = await main(process.argv.slice(2));
