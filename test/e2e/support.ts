import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { ctr, docker, podman, skopeo, startContainerd, startDockerd, type ContainerdDaemon, type DockerDaemon } from "../../scripts/lib/process/daemons";
import { runCommand, type CommandResult } from "../../scripts/lib/process/processes";
import { PROJECT_DIR, startLocalStack, type LocalStack, type LocalStackOptions } from "../../scripts/lib/stack/local-stack";

export const DEMO_REPOSITORY = "demo/hello";
export const DEMO_TAG = "latest";

/** A descriptor as image indexes and manifests hold them. */
interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
}

export interface DemoImage {
  /** The image index `demo/hello:latest` points at. */
  index: Descriptor;
  /** Every platform's image manifest. */
  manifests: Descriptor[];
  /** Configs and layers of every platform. */
  blobs: Map<string, number>;
  /** Config and layers of linux/amd64, what a pull on this machine fetches. */
  amd64Blobs: Map<string, number>;
  /** A layer of linux/amd64 that only that platform has. */
  amd64OwnLayer: Descriptor;
}

/** The path of a blob in an OCI image layout, and on every mirror. */
export function blobPath(digest: string): string {
  const [algorithm, hex] = digest.split(":");
  return `/blobs/${algorithm}/${hex}`;
}

async function readJson<T>(tree: string, path: string): Promise<T> {
  return JSON.parse(await readFile(join(tree, path), "utf8")) as T;
}

/** Reads the demo image's descriptors from the published tree. */
export async function readDemoImage(tree: string): Promise<DemoImage> {
  const top = await readJson<{ manifests: Array<Descriptor & { annotations?: Record<string, string> }> }>(tree, "index.json");
  const index = top.manifests.find((entry) => entry.annotations?.["org.opencontainers.image.ref.name"] === `${DEMO_REPOSITORY}:${DEMO_TAG}`);
  if (index === undefined) throw new Error(`${tree}/index.json has no ${DEMO_REPOSITORY}:${DEMO_TAG}`);
  const { manifests } = await readJson<{ manifests: Descriptor[] }>(tree, blobPath(index.digest));
  const blobs = new Map<string, number>();
  let amd64Blobs = new Map<string, number>();
  let amd64OwnLayer: Descriptor | undefined;
  const perPlatform = new Map<string, Descriptor[]>();
  for (const manifest of manifests) {
    const image = await readJson<{ config: Descriptor; layers: Descriptor[] }>(tree, blobPath(manifest.digest));
    const parts = [image.config, ...image.layers];
    for (const part of parts) blobs.set(part.digest, part.size);
    perPlatform.set(manifest.platform?.architecture ?? "", image.layers);
    if (manifest.platform?.architecture === "amd64") amd64Blobs = new Map(parts.map((part) => [part.digest, part.size]));
  }
  const otherLayers = new Set([...perPlatform].filter(([arch]) => arch !== "amd64").flatMap(([, layers]) => layers.map((layer) => layer.digest)));
  amd64OwnLayer = perPlatform.get("amd64")?.find((layer) => !otherLayers.has(layer.digest));
  if (amd64OwnLayer === undefined) throw new Error("the demo image has no layer of its own for linux/amd64");
  return { index, manifests, blobs, amd64Blobs, amd64OwnLayer };
}

/** Config and layers of the linux/amd64 image that `refName` (`<repository>:<tag>`) names in the tree: what a pull on this machine fetches. */
export async function readImageBlobs(tree: string, refName: string): Promise<Array<{ digest: string; size: number }>> {
  const top = await readJson<{ manifests: Array<Descriptor & { annotations?: Record<string, string> }> }>(tree, "index.json");
  const entry = top.manifests.find((manifest) => manifest.annotations?.["org.opencontainers.image.ref.name"] === refName);
  if (entry === undefined) throw new Error(`${tree}/index.json has no ${refName}`);
  let manifest: Descriptor = entry;
  if (entry.mediaType.endsWith("index.v1+json") || entry.mediaType.endsWith("manifest.list.v2+json")) {
    const { manifests } = await readJson<{ manifests: Descriptor[] }>(tree, blobPath(entry.digest));
    const amd64 = manifests.find((candidate) => candidate.platform?.os === "linux" && candidate.platform.architecture === "amd64");
    if (amd64 === undefined) throw new Error(`${refName} has no linux/amd64 image`);
    manifest = amd64;
  }
  const image = await readJson<{ config: Descriptor; layers: Descriptor[] }>(tree, blobPath(manifest.digest));
  return [image.config, ...image.layers].map(({ digest, size }) => ({ digest, size }));
}

/** A started stack, the demo image it serves, and a scratch directory; all removed by `close()`. */
export interface E2eContext {
  stack: LocalStack;
  demo: DemoImage;
  /** A scratch directory for client state. */
  scratch: string;
  /** `127.0.0.1:<port>/demo/hello:latest` */
  image: string;
  close(): Promise<void>;
}

/** Starts a local stack on free ports in a temporary state directory. */
/**
 * Retry memory sends a client that asks for a blob again within minutes to
 * the next mirror; the e2e files pull the same images over and over from one
 * address, so they run without it, and the files about failover switch it on
 * (`vars: { RETRY_MEMORY: "on" }`).
 */
const E2E_VARS = { RETRY_MEMORY: "off" };

export async function startE2eStack(options: LocalStackOptions = {}): Promise<E2eContext> {
  const scratch = await mkdtemp(join(tmpdir(), "frontdoor-e2e-"));
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ stateDir: join(scratch, "state"), port: 0, crawlIntervalMs: 0, ...options, vars: { ...E2E_VARS, ...options.vars } });
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    throw error;
  }
  const close = async (): Promise<void> => {
    await stack.stop();
    await rm(scratch, { recursive: true, force: true });
  };
  let demo: DemoImage;
  try {
    demo = await readDemoImage(stack.tree);
  } catch (error) {
    await close();
    throw error;
  }
  return { stack, demo, scratch, image: `${stack.registry}/${DEMO_REPOSITORY}:${DEMO_TAG}`, close };
}

export interface E2eStackOptions extends LocalStackOptions {
  /** Clear the logs before each test and undo `tamperEverywhere` after it; true unless told otherwise. */
  resetBetweenTests?: boolean;
}

/**
 * Registers the lifecycle of one file's stack: started before its first test, closed after its last, and,
 * unless told otherwise, logs cleared before each test and tampered blobs restored after it. A file's own
 * hooks registered later run after the start and, as vitest stacks after-hooks, before the close.
 * Returns an accessor for the started stack.
 */
export function useE2eStack({ resetBetweenTests = true, ...options }: E2eStackOptions = {}): () => E2eContext {
  let context: E2eContext | undefined;
  const started = (): E2eContext => {
    if (context === undefined) throw new Error("the e2e stack is not started: use its accessor inside hooks and tests only");
    return context;
  };
  beforeAll(async () => {
    context = await startE2eStack(options);
  });
  afterAll(async () => {
    await context?.close();
  });
  if (resetBetweenTests) {
    beforeEach(() => started().stack.clearLogs());
    afterEach(() => restoreEverywhere(started().stack));
  }
  return started;
}

/** Every blob GET the front door answered, from its request log. */
export function frontDoorBlobRequests(stack: LocalStack): Array<{ method: string; path: string; status: number; mirror: unknown }> {
  return stack
    .workerLog()
    .map((line) => line.json)
    .filter((json): json is Record<string, unknown> => json !== null && typeof json.path === "string" && /\/blobs\/[a-z0-9]+:[a-f0-9]+$/.test(json.path))
    .map((json) => ({ method: String(json.method), path: String(json.path), status: Number(json.status), mirror: json.mirror }));
}

/** Body bytes the origin and the mirrors sent for a blob in successful GETs, and which servers sent them. */
export function staticServerBytes(stack: LocalStack, digest: string): { bytes: number; servers: string[] } {
  let bytes = 0;
  const servers = new Set<string>();
  for (const [id, entries] of Object.entries(stack.accessLogs())) {
    for (const entry of entries) {
      if (entry.method === "GET" && entry.path === blobPath(digest) && (entry.status === 200 || entry.status === 206)) {
        bytes += entry.bytes;
        servers.add(id);
      }
    }
  }
  return { bytes, servers: [...servers] };
}

/**
 * The transfer rule of the front door: every blob GET it saw was answered with a redirect (no blob byte
 * from the front door), and every byte of each blob in `expected` came from the origin or a mirror.
 */
export function expectBlobsServedByStaticServers(stack: LocalStack, expected: Map<string, number>): void {
  const requests = frontDoorBlobRequests(stack).filter((request) => request.method === "GET");
  expect(requests.length).toBeGreaterThanOrEqual(expected.size);
  for (const request of requests) expect(request.status, `${request.method} ${request.path}`).toBe(307);
  for (const [digest, size] of expected) {
    expect(requests.some((request) => request.path.endsWith(`/blobs/${digest}`)), `front door redirect for ${digest}`).toBe(true);
    expect(staticServerBytes(stack, digest).bytes, `bytes of ${digest} from the origin or a mirror`).toBeGreaterThanOrEqual(size);
  }
}

/**
 * Makes the origin and every mirror serve `digest` with one byte flipped: same size, wrong digest.
 * The last byte unless `at` names another: a client that checks the digest refuses either, but a GPG
 * signature file is a compressed OpenPGP message whose last byte only ends the deflate stream after
 * the signed packets, and gpg still finds the signature good with it flipped about one time in three.
 */
export async function tamperEverywhere(stack: LocalStack, digest: string, at?: (size: number) => number): Promise<void> {
  const bytes = new Uint8Array(await readFile(join(stack.tree, blobPath(digest))));
  bytes[at === undefined ? bytes.length - 1 : at(bytes.length)]! ^= 0xff;
  for (const { server } of stack.servers()) server.tamper(blobPath(digest), bytes);
}

/** Undoes `tamperEverywhere`. */
export function restoreEverywhere(stack: LocalStack): void {
  for (const { server } of stack.servers()) server.restore();
}

/** Distinct ids of the static servers that sent blob bytes: which of them the front door chose. */
export function serversThatSentBlobs(stack: LocalStack): string[] {
  const ids = new Set<string>();
  for (const [id, entries] of Object.entries(stack.accessLogs())) {
    if (entries.some((entry) => entry.method === "GET" && entry.path.startsWith("/blobs/") && entry.bytes > 0)) ids.add(id);
  }
  return [...ids].sort();
}

/** Publishes the stack's tree again with the publisher CLI, as an operator would after changing it; the mirrors' copies are left as they were. */
export async function publishAgain(stack: LocalStack): Promise<void> {
  const published = await runCommand(process.execPath, ["--import", "tsx", join(PROJECT_DIR, "scripts", "frontdoor.ts"), "publish", stack.tree, "--local", stack.persistDir], {
    cwd: PROJECT_DIR,
  });
  expect(published.code, published.stderr).toBe(0);
}

/** Each digest's first generation, from the tree's `frontdoor/first-seen.json` as the last publication wrote it. */
export async function readFirstSeen(tree: string): Promise<Map<string, number>> {
  return new Map(Object.entries(JSON.parse(await readFile(join(tree, "frontdoor", "first-seen.json"), "utf8")) as Record<string, number>));
}

/** The real container clients the end-to-end tests pull with. */
export type ClientName = "skopeo" | "podman" | "ctr" | "docker";

export const CLIENT_NAMES: readonly ClientName[] = ["skopeo", "podman", "ctr", "docker"];

/** `skopeo copy` of `image` (`<registry>/<repository>:<tag>`) into an OCI layout at `<dir>/image`, tagged `latest`; every platform with `all`. */
export function skopeoCopy(dir: string, image: string, { all = false, timeoutMs }: { all?: boolean; timeoutMs?: number } = {}): Promise<CommandResult> {
  return skopeo(dir, ["copy", ...(all ? ["--all"] : []), "--src-tls-verify=false", `docker://${image}`, `oci:${join(dir, "image")}:latest`], timeoutMs);
}

/** `podman pull` into the podman storage under `dir`. */
export function podmanPull(dir: string, image: string, timeoutMs?: number): Promise<CommandResult> {
  return podman(dir, ["pull", "--tls-verify=false", image], timeoutMs);
}

/** `ctr image pull` over plain HTTP into one containerd namespace. */
export function ctrPull(containerd: ContainerdDaemon, namespace: string, image: string, timeoutMs?: number): Promise<CommandResult> {
  return ctr(containerd.socket, namespace, ["image", "pull", "--plain-http", image], timeoutMs);
}

/** A running dockerd and the directory its CLI config lives in. */
export interface DockerEngine {
  daemon: DockerDaemon;
  dir: string;
}

/** `docker pull` through the engine (127.0.0.0/8 is an insecure registry by default). */
export function dockerPull(engine: DockerEngine, image: string, timeoutMs?: number): Promise<CommandResult> {
  return docker(engine.daemon.host, engine.dir, ["pull", image], timeoutMs);
}

/** Removes every image from the engine, so the next pull fetches every layer again. */
export async function dockerForgetImages(engine: DockerEngine): Promise<void> {
  const listed = await docker(engine.daemon.host, engine.dir, ["image", "ls", "--quiet", "--no-trunc"]);
  const ids = [...new Set(listed.stdout.split("\n").filter((line) => line.trim() !== ""))];
  if (ids.length > 0) await docker(engine.daemon.host, engine.dir, ["image", "rm", "--force", ...ids]);
}

/** Starts containerd (state under the file's scratch directory) before the file's tests and stops it after them. */
export function useContainerd(context: () => E2eContext): () => ContainerdDaemon {
  let daemon: ContainerdDaemon | undefined;
  beforeAll(async () => {
    daemon = await startContainerd(await mkdtemp(join(context().scratch, "containerd-")));
  });
  afterAll(async () => {
    await daemon?.stop();
  });
  return () => {
    if (daemon === undefined) throw new Error("containerd is not started: use its accessor inside hooks and tests only");
    return daemon;
  };
}

/** Starts dockerd on the file's containerd before its tests and stops it after them (registered after `useContainerd`, so it stops first). */
export function useDockerd(context: () => E2eContext, containerd: () => ContainerdDaemon): () => DockerEngine {
  let engine: DockerEngine | undefined;
  beforeAll(async () => {
    const dir = await mkdtemp(join(context().scratch, "docker-"));
    engine = { daemon: await startDockerd(dir, containerd().socket), dir };
  });
  afterAll(async () => {
    await engine?.daemon.stop();
  });
  return () => {
    if (engine === undefined) throw new Error("dockerd is not started: use its accessor inside hooks and tests only");
    return engine;
  };
}

/** The daemons the clients need, for `clientWorkspace`. */
export interface ClientDaemons {
  containerd: ContainerdDaemon;
  docker: DockerEngine;
}

/** One client's own state for a series of pulls of one image: a second `pull()` is a user running the same command again. */
export interface ClientWorkspace {
  client: ClientName;
  pull(timeoutMs: number): Promise<CommandResult>;
}

let workspaces = 0;

/**
 * Fresh state for `client` to pull `image` with: its own skopeo directory, podman storage or containerd
 * namespace (namespaces share no content, see `startContainerd`), or, for docker, an engine emptied of images.
 */
export async function clientWorkspace(client: ClientName, image: string, scratch: string, daemons: ClientDaemons): Promise<ClientWorkspace> {
  const name = `${client}-${++workspaces}`;
  switch (client) {
    case "skopeo": {
      const dir = await mkdtemp(join(scratch, `${name}-`));
      return { client, pull: (timeoutMs) => skopeoCopy(dir, image, { timeoutMs }) };
    }
    case "podman": {
      const dir = await mkdtemp(join(scratch, `${name}-`));
      return { client, pull: (timeoutMs) => podmanPull(dir, image, timeoutMs) };
    }
    case "ctr":
      return { client, pull: (timeoutMs) => ctrPull(daemons.containerd, name, image, timeoutMs) };
    case "docker":
      await dockerForgetImages(daemons.docker);
      return { client, pull: (timeoutMs) => dockerPull(daemons.docker, image, timeoutMs) };
  }
}
