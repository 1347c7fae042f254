import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { randomSource } from "./random-tables";

/** A synthetic catalogue on disk, and where to find one of its tags. */
export interface SyntheticTree {
  dir: string;
  repositories: number;
  tags: number;
  /** A repository, tag, manifest digest and layer digest in the middle of the catalogue. */
  sample: { repository: string; tag: string; manifest: string; layer: string };
}

function writeBlob(dir: string, bytes: Uint8Array): { digest: string; size: number } {
  const hex = createHash("sha256").update(bytes).digest("hex");
  writeFileSync(join(dir, "blobs", "sha256", hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.byteLength };
}

/**
 * Writes an OCI image layout of `repositories` repositories with `tags` tags
 * in all (random tag names), each tag its own image manifest with its own
 * config and one layer shared within its repository. `changed` tags get a new
 * config (a changed image under the same tag), for a republication that
 * changes only them.
 */
export function writeSyntheticTree(dir: string, repositories: number, tags: number, changed = 0): SyntheticTree {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const random = randomSource(repositories * 7919 + tags);
  const encoder = new TextEncoder();
  const refs: unknown[] = [];
  let sample: SyntheticTree["sample"] | null = null;
  let tagNumber = 0;
  for (let r = 0; r < repositories; r++) {
    const repository = `bench/repo-${String(r).padStart(4, "0")}-${Math.floor(random() * 1e6).toString(36)}`;
    const layer = writeBlob(dir, encoder.encode(`layer of ${repository} ${random()}\n`.repeat(8)));
    const perRepository = Math.floor(tags / repositories) + (r < tags % repositories ? 1 : 0);
    for (let t = 0; t < perRepository; t++, tagNumber++) {
      const tag = `v${Math.floor(random() * 100)}.${t}.${Math.floor(random() * 1e9).toString(36)}`;
      const revision = tagNumber < changed ? "changed" : "first";
      const config = writeBlob(dir, encoder.encode(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] }, config: { Labels: { ref: `${repository}:${tag}`, revision } } })));
      const manifest = encoder.encode(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA_TYPES.ociManifest,
          config: { mediaType: MEDIA_TYPES.ociConfig, ...config },
          layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, ...layer }],
        }),
      );
      const written = writeBlob(dir, manifest);
      refs.push({ mediaType: MEDIA_TYPES.ociManifest, ...written, annotations: { [REF_NAME_ANNOTATION]: `${repository}:${tag}` } });
      if (sample === null && r === Math.floor(repositories / 2)) sample = { repository, tag, manifest: written.digest, layer: layer.digest };
    }
  }
  writeFileSync(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: refs }));
  return { dir, repositories, tags, sample: sample! };
}
