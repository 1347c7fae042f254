import { resolve } from "node:path";
import { pullImage, PullError } from "./lib/pull/puller";
import { streamProgress } from "./lib/pull/progress";
import { parseImageReference, ReferenceError } from "./lib/pull/reference";
import { LayoutTargetError } from "./lib/pull/staging";
import { ManifestError } from "./lib/pull/manifest";
import { MetalinkError } from "./lib/pull/metalink";

const USAGE = `usage: npm run pull -- <front door>/<repository>[:tag|@digest] <directory>
  <front door> is http(s)://host[:port], or host[:port] (plain HTTP on loopback).
  Writes an OCI image layout to <directory>, e.g. for skopeo copy oci:<directory>:<tag> ...`;

/** Reference patched client: pulls an image through the front door's metalinks (docs/metalink.md). */
async function main(argv: string[]): Promise<number> {
  if (argv.length !== 2 || argv.some((arg) => arg === "-h" || arg === "--help")) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const [reference, directory] = argv as [string, string];
  try {
    const image = parseImageReference(reference);
    // `npm run` starts scripts in the package root; a relative directory means the caller's own.
    const target = resolve(process.env.INIT_CWD ?? process.cwd(), directory);
    const result = await pullImage({ image, target, progress: streamProgress(process.stderr) });
    process.stdout.write(`${result.digest}\n`);
    return 0;
  } catch (error) {
    const known = [PullError, ReferenceError, LayoutTargetError, ManifestError, MetalinkError].some((type) => error instanceof type);
    process.stderr.write(`error: ${known ? (error as Error).message : (error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
