import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { skopeo } from "../process/daemons";
import { runCommand, startDaemon, type Daemon } from "../process/processes";
import { freePort } from "./workerd";

/** The reference registry (distribution, Debian's `docker-registry`), serving what the bench pushed into it. */
export interface ReferenceRegistry extends Daemon {
  url: string;
  version: string;
}

const BINARY = "/usr/bin/docker-registry";

/** Whether Debian's `docker-registry` is installed; the bench skips the comparison when it is not. */
export async function referenceRegistryInstalled(): Promise<boolean> {
  return access(BINARY).then(
    () => true,
    () => false,
  );
}

/**
 * Starts the reference registry on 127.0.0.1 with a temporary config and
 * filesystem storage under `dir`, and pushes `ref` of the OCI layout `tree`
 * into it with skopeo, digests preserved, so both registries serve the same bytes.
 */
export async function startReferenceRegistry(dir: string, tree: string, ref: string): Promise<ReferenceRegistry> {
  await mkdir(join(dir, "storage"), { recursive: true });
  const port = await freePort();
  const config = join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "storage")}`,
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const url = `http://127.0.0.1:${port}`;
  const daemon = await startDaemon({
    name: "docker-registry",
    command: BINARY,
    args: ["serve", config],
    logFile: join(dir, "registry.log"),
    ready: async () => (await fetch(`${url}/v2/`)).status === 200,
  });
  try {
    const pushed = await skopeo(dir, ["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", `oci:${tree}:${ref}`, `docker://127.0.0.1:${port}/${ref}`], 120_000);
    if (pushed.code !== 0) throw new Error(`skopeo copy into the reference registry failed: ${pushed.stderr}`);
    const version = await runCommand(BINARY, ["--version"], { timeoutMs: 5_000 });
    return Object.assign(daemon, { url, version: version.stdout.trim() });
  } catch (error) {
    await daemon.stop();
    throw error;
  }
}
