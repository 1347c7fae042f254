import { resolve } from "node:path";
import { constants } from "node:os";
import { CliError, EXIT, UsageError } from "./lib/cli/error";
import { streamProgress } from "./lib/pull/progress";
import { pullImage } from "./lib/pull/puller";
import { parseImageReference } from "./lib/pull/reference";

const USAGE = `usage: npm run pull -- <front door>/<repository>[:tag|@digest] <directory>
  <front door> is http(s)://host[:port], or host[:port] (plain HTTP on loopback).
  Writes an OCI image layout to <directory>, e.g. for skopeo copy oci:<directory>:<tag> ...
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
  if (argv.some((arg) => arg === "-h" || arg === "--help")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const interruption = new AbortController();
  const stopListening = abortOnSignals(interruption);
  try {
    if (argv.length !== 2) throw new UsageError(`expected <reference> <directory>, got ${argv.length} arguments`, USAGE);
    const [reference, directory] = argv as [string, string];
    const image = parseImageReference(reference);
    // `npm run` starts scripts in the package root; a relative directory means the caller's own.
    const target = resolve(process.env.INIT_CWD ?? process.cwd(), directory);
    const result = await pullImage({ image, target, progress: streamProgress(process.stderr), signal: interruption.signal });
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
