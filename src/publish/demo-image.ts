import { isRepositoryName, isTag } from "../oci/reference";
import { MEDIA_TYPES } from "../oci/media-types";
import { computeDigest } from "../oci/reference";
import type { Descriptor } from "../oci/descriptor";
import { MemoryLayout, type Platform } from "./layout";
import { LAYOUT_FILES, OCI_LAYOUT_VERSION, REF_NAME_ANNOTATION } from "../oci/layout";
import { gzip, tar, type TarEntry } from "./tar";

export interface DemoImageOptions {
  repository?: string;
  tag?: string;
  /** Text written into each platform's layer; a different message gives different blobs. */
  message?: string;
}

/** 2026-01-01T00:00:00Z: every file and history entry carries it, so the image is the same on every build. */
const EPOCH = 1_767_225_600;
const CREATED = new Date(EPOCH * 1000).toISOString().replace(".000Z", "Z");
const NOISE_BYTES = 48 * 1024;
const PLATFORMS: readonly Platform[] = [
  { architecture: "amd64", os: "linux" },
  { architecture: "arm64", os: "linux", variant: "v8" },
];

const encoder = new TextEncoder();

/** Deterministic bytes that gzip cannot shrink much, so layers have a realistic size (xorshift32). */
function noise(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

function file(path: string, content: string | Uint8Array): TarEntry {
  return { path, content: typeof content === "string" ? encoder.encode(content) : content, mtime: EPOCH };
}

function directory(path: string): TarEntry {
  return { path, mtime: EPOCH };
}

function sharedLayerEntries(): TarEntry[] {
  return [
    directory("etc/"),
    directory("etc/hello/"),
    file("etc/hello/motd", "Served by registry-frontdoor: manifests from KV, blobs from mirrors.\n"),
    directory("usr/"),
    directory("usr/share/"),
    directory("usr/share/hello/"),
    file("usr/share/hello/noise.bin", noise(NOISE_BYTES, 0x5eed)),
  ];
}

function platformLayerEntries(platform: Platform, message: string): TarEntry[] {
  const name = [platform.os, platform.architecture, platform.variant].filter(Boolean).join("/");
  return [directory("hello/"), file("hello/platform", `${name}\n`), file("hello/message", `${message}\n`)];
}

/** A layer blob (gzip'd tar) and its diff ID, the digest of the uncompressed tar (OCI Image Spec, "Layer DiffID"). */
async function addLayer(layout: MemoryLayout, entries: TarEntry[]): Promise<{ descriptor: Descriptor; diffId: string }> {
  const archive = tar(entries);
  const descriptor = await layout.addBlob(await gzip(archive), MEDIA_TYPES.ociLayerGzip);
  return { descriptor, diffId: await computeDigest(archive) };
}

async function addImage(layout: MemoryLayout, platform: Platform, shared: { descriptor: Descriptor; diffId: string }, message: string) {
  const own = await addLayer(layout, platformLayerEntries(platform, message));
  const layers = [shared, own];
  const config = await layout.addJsonBlob(
    {
      created: CREATED,
      architecture: platform.architecture,
      ...(platform.variant === undefined ? {} : { variant: platform.variant }),
      os: platform.os,
      config: {
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        Cmd: ["/bin/sh", "-c", "cat /hello/platform /hello/message"],
        WorkingDir: "/",
      },
      rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) },
      history: [
        { created: CREATED, created_by: "registry-frontdoor demo: shared files" },
        { created: CREATED, created_by: "registry-frontdoor demo: platform files" },
      ],
    },
    MEDIA_TYPES.ociConfig,
  );
  return layout.addJsonBlob(
    { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: layers.map((layer) => layer.descriptor) },
    MEDIA_TYPES.ociManifest,
    { platform },
  );
}

export interface BigDemoImageOptions {
  repository?: string;
  tag?: string;
  /** Size of each layer's one file, in bytes; the gzip'd layer is a little larger, as the bytes do not compress. */
  layerSizes?: readonly number[];
  /** Seed of the layers' bytes: another seed gives other blobs. */
  seed?: number;
}

const MiB = 1024 * 1024;

/** Three layers of several MiB: large enough that a cut-off or a trickle is a real transfer, small enough to build in a second. */
export const BIG_DEMO_LAYER_SIZES: readonly number[] = Object.freeze([5 * MiB, 4 * MiB, 3 * MiB]);

/**
 * Builds a larger image for transfer tests: an image index over one linux/amd64 manifest
 * whose layers each hold one file of deterministic bytes that gzip cannot shrink.
 * Same bytes on every build with the same options.
 */
export async function buildBigDemoLayout(options: BigDemoImageOptions = {}): Promise<MemoryLayout> {
  const { repository = "demo/big", tag = "latest", layerSizes = BIG_DEMO_LAYER_SIZES, seed = 0xb16 } = options;
  if (!isRepositoryName(repository)) throw new RangeError(`invalid repository name: ${repository}`);
  if (!isTag(tag)) throw new RangeError(`invalid tag: ${tag}`);
  if (layerSizes.length === 0 || layerSizes.some((size) => !Number.isSafeInteger(size) || size < 1)) throw new RangeError("layer sizes must be positive integers");

  const layout = new MemoryLayout();
  const layers = [];
  for (const [n, size] of layerSizes.entries()) {
    layers.push(await addLayer(layout, [directory("big/"), file(`big/part-${n}.bin`, noise(size, (seed * 31 + n + 1) >>> 0))]));
  }
  const platform: Platform = { architecture: "amd64", os: "linux" };
  const config = await layout.addJsonBlob(
    {
      created: CREATED,
      architecture: platform.architecture,
      os: platform.os,
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"], WorkingDir: "/" },
      rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) },
      history: layers.map((_, n) => ({ created: CREATED, created_by: `registry-frontdoor demo: big part ${n}` })),
    },
    MEDIA_TYPES.ociConfig,
  );
  const manifest = await layout.addJsonBlob(
    { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: layers.map((layer) => layer.descriptor) },
    MEDIA_TYPES.ociManifest,
    { platform },
  );
  const index = await layout.addJsonBlob({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [manifest] }, MEDIA_TYPES.ociIndex);
  layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
  layout.writeFile(
    LAYOUT_FILES.index,
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ ...index, annotations: { [REF_NAME_ANNOTATION]: `${repository}:${tag}` } }] }),
  );
  return layout;
}

/**
 * Builds the demo content: an OCI image layout holding one multi-platform image
 * (linux/amd64 and linux/arm64), an image index over two image manifests, each
 * with a config and two gzip'd tar layers, one of them shared. Same bytes on
 * every build. `index.json` names it `<repository>:<tag>` as skopeo's `oci:` transport does.
 */
export async function buildDemoLayout(options: DemoImageOptions = {}): Promise<MemoryLayout> {
  const { repository = "demo/hello", tag = "latest", message = "Hello from registry-frontdoor." } = options;
  if (!isRepositoryName(repository)) throw new RangeError(`invalid repository name: ${repository}`);
  if (!isTag(tag)) throw new RangeError(`invalid tag: ${tag}`);

  const layout = new MemoryLayout();
  const shared = await addLayer(layout, sharedLayerEntries());
  const manifests = [];
  for (const platform of PLATFORMS) manifests.push(await addImage(layout, platform, shared, message));
  const index = await layout.addJsonBlob({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }, MEDIA_TYPES.ociIndex);

  layout.writeFile(LAYOUT_FILES.ociLayout, JSON.stringify(OCI_LAYOUT_VERSION));
  layout.writeFile(
    LAYOUT_FILES.index,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: [{ ...index, annotations: { [REF_NAME_ANNOTATION]: `${repository}:${tag}` } }],
    }),
  );
  return layout;
}
