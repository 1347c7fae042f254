import { MEDIA_TYPES } from "../../../src/oci/media-types";
import type { Digest } from "../../../src/oci/reference";
import { buildDemoLayout } from "../../../src/publish/demo-image";
import { MemoryLayout } from "../../../src/publish/layout";
import { blobPath, LAYOUT_FILES, REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import type { Descriptor } from "../../../src/oci/descriptor";

const decoder = new TextDecoder();

/** Parses a JSON file of a layout. */
export async function readJson<T = any>(layout: MemoryLayout, path: string): Promise<T> {
  const bytes = await layout.readFile(path);
  if (bytes === null) throw new Error(`${path} is missing`);
  return JSON.parse(decoder.decode(bytes)) as T;
}

/** The descriptor that `index.json` names first. */
export async function rootDescriptor(layout: MemoryLayout): Promise<Descriptor> {
  return (await readJson(layout, LAYOUT_FILES.index)).manifests[0];
}

/** The demo's image manifests and their first layer. */
export async function demoParts(layout: MemoryLayout) {
  const root = await rootDescriptor(layout);
  const index = await readJson(layout, blobPath(root.digest));
  const manifests: Descriptor[] = index.manifests;
  const image = await readJson(layout, blobPath(manifests[0]!.digest));
  return { root, manifests, config: image.config as Descriptor, layers: image.layers as Descriptor[] };
}

/** Replaces `index.json` with one listing these descriptors. */
export function writeIndex(layout: MemoryLayout, manifests: unknown[]): void {
  layout.writeFile(LAYOUT_FILES.index, JSON.stringify({ schemaVersion: 2, manifests }));
}

export function named(descriptor: Descriptor, ref: string): Descriptor {
  return { ...descriptor, annotations: { [REF_NAME_ANNOTATION]: ref } };
}

/** Adds a single-platform image (one config, one layer) built from `seed`, returning its manifest descriptor. */
export async function addImage(
  layout: MemoryLayout,
  seed: string,
  options: { manifestType?: string; configType?: string; layerType?: string; subject?: Descriptor; artifactType?: string } = {},
): Promise<Descriptor> {
  const manifestType = options.manifestType ?? MEDIA_TYPES.ociManifest;
  const config = await layout.addJsonBlob({ architecture: "amd64", os: "linux", seed }, options.configType ?? MEDIA_TYPES.ociConfig);
  const layer = await layout.addBlob(new TextEncoder().encode(`layer ${seed}`), options.layerType ?? MEDIA_TYPES.ociLayerGzip);
  return layout.addJsonBlob(
    {
      schemaVersion: 2,
      mediaType: manifestType,
      ...(options.artifactType === undefined ? {} : { artifactType: options.artifactType }),
      config,
      layers: [layer],
      ...(options.subject === undefined ? {} : { subject: options.subject }),
    },
    manifestType,
  );
}

/** The demo layout for `demo/hello:latest`. */
export function demo(options?: Parameters<typeof buildDemoLayout>[0]): Promise<MemoryLayout> {
  return buildDemoLayout(options);
}

export function blobOf(layout: MemoryLayout, digest: Digest): Promise<Uint8Array | null> {
  return layout.readFile(blobPath(digest));
}
