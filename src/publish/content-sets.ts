import { INDEX_MEDIA_TYPES } from "../oci/media-types";
import { blobPath, LAYOUT_FILES, REF_NAME_ANNOTATION } from "../oci/layout";
import { encodeMarker } from "../oci/marker";
import { isDigest, type Digest } from "../oci/reference";
import type { Inventory } from "./inventory";
import type { LayoutSource } from "./layout";
import { SET_FILES } from "../oci/sets";

export { markerPath, SET_FILES, SET_NAME_PATTERN, WHOLE_TREE_SET } from "../oci/sets";

/** `os/architecture` or `os/architecture/variant`, as in an index's platform objects. */
export interface PlatformPattern {
  os: string;
  architecture: string;
  variant?: string;
}

/** One operator-defined content set (docs/content-sets.md). */
export interface ContentSet {
  name: string;
  /** Repository patterns: a name, or a prefix ending in `/*` (any depth below it), or `*` for every repository. */
  repositories: string[];
  /** Platforms the set carries; empty for every platform. */
  platforms: PlatformPattern[];
}

/** Whether a repository name matches one pattern of a set. */
export function repositoryMatches(pattern: string, repository: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith("/*")) return repository.startsWith(pattern.slice(0, -1));
  return pattern === repository;
}

function platformMatches(patterns: readonly PlatformPattern[], platform: unknown): boolean {
  if (patterns.length === 0) return true;
  if (typeof platform !== "object" || platform === null) return false;
  const { os, architecture, variant } = platform as Record<string, unknown>;
  return patterns.some((p) => p.os === os && p.architecture === architecture && (p.variant === undefined || p.variant === variant));
}

const decoder = new TextDecoder();

function documentOf(inventory: Inventory, digest: Digest): Record<string, unknown> | null {
  const manifest = inventory.manifests.get(digest);
  if (manifest === undefined) return null;
  return JSON.parse(decoder.decode(manifest.bytes)) as Record<string, unknown>;
}

function descriptors(value: unknown): Array<{ digest: Digest; platform?: unknown; annotations?: Record<string, unknown> }> {
  if (!Array.isArray(value)) return [];
  return value.filter((entry): entry is { digest: Digest } => typeof entry === "object" && entry !== null && isDigest((entry as { digest?: unknown }).digest as string));
}

/** Docker's attestation manifests sit in an index as `unknown/unknown` and name the image they describe. */
const ATTESTATION_OF = "vnd.docker.reference.digest";

/** cosign's tag of a signature: `sha256-<hex>.sig` for the manifest `sha256:<hex>`. */
const COSIGN_TAG = /^(sha256|sha512)-([0-9a-f]{64,128})\.(sig|att|sbom)$/;

/** The manifest a cosign tag signs or attests, or null for any other tag. */
export function cosignSubject(tag: string): Digest | null {
  const match = COSIGN_TAG.exec(tag);
  if (match === null) return null;
  const digest = `${match[1]}:${match[2]}`;
  return isDigest(digest) ? digest : null;
}

/**
 * Membership of one set: every digest (manifest or blob) its images
 * reference. A tag of a matching repository is an image unless it is a
 * cosign signature tag or its manifest has a `subject`; an image's index, the
 * platform manifests the set's platforms select (and the attestations naming
 * them), their configs and layers belong to it; then, until nothing changes,
 * signatures of a member and referrers whose subject is a member, with
 * everything they reference. A single-platform image is selected by its
 * config's `os`, `architecture` and `variant`.
 */
async function membersOf(set: ContentSet, inventory: Inventory, source: LayoutSource): Promise<Set<Digest>> {
  const members = new Set<Digest>();
  const addManifest = async (digest: Digest, filter: boolean, depth: number): Promise<void> => {
    const document = documentOf(inventory, digest);
    if (document === null || depth > 8) return;
    const media = inventory.manifests.get(digest)!.mediaType;
    if (INDEX_MEDIA_TYPES.has(media)) {
      const children = descriptors(document.manifests);
      const chosen = children.filter((child) => !filter || platformMatches(set.platforms, child.platform));
      const chosenDigests = new Set(chosen.map((child) => child.digest));
      const attestations = filter ? children.filter((child) => typeof child.annotations?.[ATTESTATION_OF] === "string" && chosenDigests.has(child.annotations[ATTESTATION_OF] as Digest)) : [];
      if (filter && chosen.length === 0) return;
      members.add(digest);
      for (const child of [...chosen, ...attestations]) await addManifest(child.digest, filter, depth + 1);
      return;
    }
    const config = descriptors([document.config])[0];
    if (filter && set.platforms.length > 0) {
      const bytes = config === undefined ? null : await source.readFile(blobPath(config.digest));
      let platform: unknown = null;
      try {
        platform = bytes === null ? null : JSON.parse(decoder.decode(bytes));
      } catch {
        platform = null;
      }
      if (!platformMatches(set.platforms, platform)) return;
    }
    members.add(digest);
    if (config !== undefined) members.add(config.digest);
    for (const layer of descriptors(document.layers)) members.add(layer.digest);
  };

  const attached: Array<{ repository: string; tag: string; digest: Digest }> = [];
  for (const [repository, content] of inventory.repositories) {
    if (!set.repositories.some((pattern) => repositoryMatches(pattern, repository))) continue;
    for (const [tag, digest] of content.tags) {
      const document = documentOf(inventory, digest);
      if (cosignSubject(tag) !== null || (document !== null && document.subject !== undefined)) attached.push({ repository, tag, digest });
      else await addManifest(digest, true, 0);
    }
  }
  // Signatures and referrers of members, and theirs in turn: a fixed point, at most one round per attachment.
  for (let changed = true, rounds = 0; changed && rounds <= attached.length + 8; rounds++) {
    changed = false;
    for (const [repository, content] of inventory.repositories) {
      if (!set.repositories.some((pattern) => repositoryMatches(pattern, repository))) continue;
      for (const [subject, referrers] of content.referrers) {
        if (!members.has(subject)) continue;
        for (const referrer of referrers) {
          if (members.has(referrer.digest)) continue;
          await addManifest(referrer.digest, false, 0);
          changed = true;
        }
      }
    }
    for (const { tag, digest } of attached) {
      if (members.has(digest)) continue;
      const subject = cosignSubject(tag) ?? (descriptors([documentOf(inventory, digest)?.subject])[0]?.digest ?? null);
      if (subject === null || !members.has(subject)) continue;
      await addManifest(digest, false, 0);
      changed = true;
    }
  }
  return members;
}

/** What the publisher derives from the sets for one publication. */
export interface SetMembership {
  /** digest -> names of the operator's sets it belongs to, sorted; digests in no set are absent (they belong to `all` only). */
  setsOf: Map<Digest, string[]>;
  /** Set name -> its digests. */
  members: Map<string, Set<Digest>>;
}

/** Computes which sets every digest of the tree belongs to (a digest shared by several sets belongs to each). */
export async function computeMembership(sets: readonly ContentSet[], inventory: Inventory, source: LayoutSource): Promise<SetMembership> {
  const members = new Map<string, Set<Digest>>();
  const setsOf = new Map<Digest, string[]>();
  for (const set of [...sets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const digests = await membersOf(set, inventory, source);
    members.set(set.name, digests);
    for (const digest of digests) {
      const list = setsOf.get(digest);
      if (list === undefined) setsOf.set(digest, [set.name]);
      else list.push(set.name);
    }
  }
  return { setsOf, members };
}

/** One file the publisher writes into the tree. */
export interface TreeFile {
  path: string;
  bytes: Uint8Array;
}

/** The folder holding each set's folder, `SET_FILES.directory(<set>)`. */
export const SETS_FOLDER = "frontdoor/sets";

/** The names of the files `setFiles` writes into a set's folder (SET_FILES): all a folder of the publisher's own holds. */
export const SET_FOLDER_FILES: readonly string[] = ["index.json", "files", "generation"];

const encoder = new TextEncoder();

/**
 * Per set, the files a mirror admin needs to carry it with plain rsync
 * (docs/mirror-admins.md, "Carrying one content set"): `index.json` listing
 * only the set's refs, the `rsync --files-from` list, and the set's marker,
 * which the caller writes last. The list names paths relative to the tree
 * root; the set's index is named `frontdoor/sets/<set>/./index.json`, so
 * rsync's relative-path rule lands it as `index.json` at the mirror's root
 * and a mirror of one set is a valid OCI image layout.
 */
export async function setFiles(
  sets: readonly ContentSet[],
  membership: SetMembership,
  source: LayoutSource,
  marker: { generation: number; published: string },
): Promise<{ files: TreeFile[]; markers: TreeFile[] }> {
  const indexBytes = await source.readFile(LAYOUT_FILES.index);
  const index = indexBytes === null ? {} : (JSON.parse(decoder.decode(indexBytes)) as Record<string, unknown>);
  const refs = Array.isArray(index.manifests) ? (index.manifests as Array<{ digest: Digest; annotations?: Record<string, string> }>) : [];
  const files: TreeFile[] = [];
  const markers: TreeFile[] = [];
  for (const set of sets) {
    const digests = membership.members.get(set.name) ?? new Set<Digest>();
    const setRefs = refs.filter((ref) => {
      const name = ref.annotations?.[REF_NAME_ANNOTATION] ?? "";
      const repository = name.slice(0, name.lastIndexOf(":"));
      return digests.has(ref.digest) && set.repositories.some((pattern) => repositoryMatches(pattern, repository));
    });
    const setIndex = { ...index, manifests: setRefs };
    files.push({ path: SET_FILES.index(set.name), bytes: encoder.encode(`${JSON.stringify(setIndex, null, 2)}\n`) });
    const paths = [LAYOUT_FILES.ociLayout, ...[...digests].map(blobPath).sort(), `${SET_FILES.directory(set.name)}/./index.json`, SET_FILES.marker(set.name)];
    files.push({ path: SET_FILES.files(set.name), bytes: encoder.encode(`${paths.join("\n")}\n`) });
    markers.push({ path: SET_FILES.marker(set.name), bytes: encodeMarker(marker) });
  }
  return { files, markers };
}
