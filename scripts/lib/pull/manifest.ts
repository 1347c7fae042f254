import { TextDecoder } from "node:util";
import { checkDescriptor, type Descriptor } from "../../../src/oci/descriptor";
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from "../../../src/oci/media-types";
import { CliError } from "../cli/error";

export type ParsedManifest =
  | { kind: "index"; mediaType: string; manifests: Descriptor[] }
  | { kind: "image"; mediaType: string; config: Descriptor; layers: Descriptor[] };

export class ManifestError extends CliError {
  override name = "ManifestError";
}

function descriptor(value: unknown, where: string): Descriptor {
  const checked = checkDescriptor(value);
  if (!checked.ok) throw new ManifestError(`${where}: ${checked.problem}`);
  return checked.descriptor;
}

/**
 * Parses and checks an image manifest or index (OCI Image Spec, "Image Manifest"
 * and "Image Index"; Docker schema 2 and manifest lists alike). `mediaType` is
 * what the bytes were announced as; a `mediaType` field inside must agree.
 * Every descriptor is checked before any of its fields is used as a path.
 */
export function parseManifest(bytes: Uint8Array, mediaType: string): ParsedManifest {
  if (!MANIFEST_MEDIA_TYPES.has(mediaType)) throw new ManifestError(`unsupported manifest media type ${mediaType}`);
  let document: Record<string, unknown>;
  try {
    document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new ManifestError("the manifest is not UTF-8 JSON");
  }
  if (document === null || typeof document !== "object" || Array.isArray(document)) throw new ManifestError("the manifest is not a JSON object");
  if (document.schemaVersion !== 2) throw new ManifestError("the manifest's schemaVersion is not 2");
  if (document.mediaType !== undefined && document.mediaType !== mediaType) {
    throw new ManifestError(`the manifest says it is ${String(document.mediaType)}, but was announced as ${mediaType}`);
  }
  if (INDEX_MEDIA_TYPES.has(mediaType)) {
    if (!Array.isArray(document.manifests)) throw new ManifestError("the index has no manifests array");
    const manifests = document.manifests.map((entry, i) => descriptor(entry, `manifests[${i}]`));
    for (const child of manifests) {
      if (!MANIFEST_MEDIA_TYPES.has(child.mediaType)) throw new ManifestError(`the index lists ${child.digest} with unsupported media type ${child.mediaType}`);
    }
    return { kind: "index", mediaType, manifests };
  }
  if (!Array.isArray(document.layers)) throw new ManifestError("the manifest has no layers array");
  return {
    kind: "image",
    mediaType,
    config: descriptor(document.config, "config"),
    layers: document.layers.map((entry, i) => descriptor(entry, `layers[${i}]`)),
  };
}
