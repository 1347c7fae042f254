import { resolve } from "node:path";
import { constants } from "node:os";
import { ManifestError } from "./lib/pull/manifest";
import { MetalinkError } from "./lib/pull/metalink";
import { streamProgress } from "./lib/pull/progress";
import { pullImage, PullError } from "./lib/pull/puller";
import { ImageReferenceError, parseImageReference } from "./lib/pull/reference";
import { LayoutTargetError } from "./lib/pull/staging";

const USAGE = `usage: npm run pull -- <front door>/<repository>[:tag|@digest] <directory>
  <front door> is http(s)://host[:port], or host[:port] (plain HTTP on loopback).
  Writes an OCI image layout to <directory>, e.g. for skopeo copy oci:<directory>:<tag> ...
  FRONTDOOR_DEBUG=1 prints the stack of an unexpected error.`;

const KNOWN_ERRORS = [PullError, ImageReferenceError, LayoutTargetError, ManifestError, MetalinkError];

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
  if (argv.length !== 2 || argv.some((arg) => arg === "-h" || arg === "--help")) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const [reference, directory] = argv as [string, string];
  const interruption = new AbortController();
  const stopListening = abortOnSignals(interruption);
  try {
    const image = parseImageReference(reference);
    // `npm run` starts scripts in the package root; a relative directory means the caller's own.
    const target = resolve(process.env.INIT_CWD ?? process.cwd(), directory);
    const result = await pullImage({ image, target, progress: streamProgress(process.stderr), signal: interruption.signal });
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
