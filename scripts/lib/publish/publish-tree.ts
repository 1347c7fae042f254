import { readTreeGeneration } from "../../../src/publish/marker";
import { planPublication, type PublicationPlan } from "../../../src/publish/plan";
import { checkDroppedSignatures, checkDroppedTags, checkKvLimits } from "../../../src/publish/safety";
import { LAYOUT_FILES } from "../../../src/oci/layout";
import { MAX_GENERATION } from "../../../src/oci/marker";
import { PublishError } from "../../../src/publish/errors";
import { publishedHashes } from "../../../src/store/publication-store";
import { parsePublishing, publishingEntry } from "../../../src/store/encode";
import { InventoryReader, type JsonKv } from "../../../src/store/inventory-store";
import { keys } from "../../../src/store/keys";
import type { InventoryEntry, Publication } from "../../../src/store/records";
import { isDigest, type Digest } from "../../../src/oci/reference";
import { checkTreeFolder, FsLayout, isTemporaryOf, type EntryKind } from "./fs-layout";
import { adoptLookasideFiles } from "../signing/sign-tree";
import type { KvTarget } from "../kv/kv-target";
import { SET_FILES, SET_FOLDER_FILES, SET_NAME_PATTERN, SETS_FOLDER, WHOLE_TREE_SET, type ContentSet } from "../../../src/publish/content-sets";

export interface PublishTreeOptions {
  /** Time of the publication; defaults to now. */
  now?: Date;
  /** Write `frontdoor/first-seen.json` and the marker into the tree after the KV writes (default true). */
  writeTree?: boolean;
  /** Publish even when it stops serving every tag, or most of them (`--allow-drop`). */
  allowDrop?: boolean;
  /**
   * Told when an earlier publication was cut off before it finished (this one
   * completes it), and of what under `frontdoor/sets/` it leaves in place.
   */
  warn?: (message: string) => void;
  /** The operator's content sets (`frontdoor publish --sets sets.toml`). */
  sets?: readonly ContentSet[];
}

/** What `publishTree` did: its plan, and the earlier publications' sets whose folders it removed from the tree. */
export interface PublishTreeResult extends PublicationPlan {
  /** Sets this publication does not have whose `frontdoor/sets/<name>/` it removed, sorted; none when the tree is not written. */
  removedSets: string[];
}

/** RFC 3339 in UTC, whole seconds. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A publication's generation is one more than the newest the tree or the namespace has seen, up to MAX_GENERATION. */
export function nextGeneration(treeGeneration: number, kvGeneration: number | null): number {
  const next = Math.max(treeGeneration, kvGeneration ?? 0) + 1;
  if (next > MAX_GENERATION) {
    throw new PublishError("LAYOUT_INVALID", `the tree or the namespace is at generation ${next - 1}: no publication can follow, a generation goes up to ${MAX_GENERATION}`);
  }
  return next;
}

/**
 * The first-seen generations of the namespace's publication, read from its
 * inventory, for a tree without `frontdoor/first-seen.json`; entries that do
 * not fit the publication are left out, as new content.
 */
async function publishedFirstSeen(target: KvTarget, publication: Publication): Promise<Map<Digest, number>> {
  const kv: JsonKv = {
    get: async <T>(key: string) => {
      const text = await target.readText(key);
      return text === null ? null : (JSON.parse(text) as T);
    },
  };
  const { entries } = await new InventoryReader(kv, publication).after(null, publication.generation, Number.MAX_SAFE_INTEGER);
  const fits = (entry: InventoryEntry) => isDigest(entry.digest) && Number.isSafeInteger(entry.generation) && entry.generation >= 1 && entry.generation <= publication.generation;
  return new Map(entries.filter(fits).map((entry) => [entry.digest, entry.generation]));
}

async function writeIfChanged(tree: FsLayout, path: string, bytes: Uint8Array): Promise<void> {
  const existing = await tree.readFile(path);
  if (existing !== null && Buffer.from(existing).equals(bytes)) return;
  await tree.writeFileAtomic(path, bytes);
}

/** A folder the publisher wrote for a set this publication does not have, and the files in it. */
interface DroppedSet {
  name: string;
  files: string[];
}

function isSetFolderFile(name: string, kind: EntryKind): boolean {
  return kind === "file" && (SET_FOLDER_FILES.includes(name) || isTemporaryOf(name, SET_FOLDER_FILES));
}

/** What makes an entry of `frontdoor/sets/` something other than a set folder the publisher wrote; null when it is one. */
function unexpectedIn(name: string, kind: EntryKind, files: ReadonlyMap<string, EntryKind> | null): string | null {
  if (kind !== "directory") return kind === "other" ? "is neither a file nor a folder" : `is a ${kind}`;
  if (!SET_NAME_PATTERN.test(name) || name === WHOLE_TREE_SET) return "is not named as a set";
  const others = [...(files ?? [])].filter(([file, fileKind]) => !isSetFolderFile(file, fileKind)).map(([file]) => file);
  return others.length === 0 ? null : `holds ${others.sort().join(", ")}`;
}

/**
 * The folders under `frontdoor/sets/` of sets this publication does not have
 * that hold only what the publisher writes there; anything else there is left
 * alone, with a warning.
 */
async function droppedSetFolders(tree: FsLayout, sets: readonly ContentSet[], warn: (message: string) => void): Promise<DroppedSet[]> {
  const entries = await tree.listFolder(SETS_FOLDER);
  if (entries === null) return [];
  const kept = new Set(sets.map((set) => set.name));
  const dropped: DroppedSet[] = [];
  for (const [name, kind] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (kept.has(name)) continue;
    const files = kind === "directory" ? await tree.listFolder(SET_FILES.directory(name)) : null;
    const unexpected = unexpectedIn(name, kind, files);
    if (unexpected === null) dropped.push({ name, files: [...(files?.keys() ?? [])] });
    else warn(`${SETS_FOLDER}/${name} ${unexpected}: not a set folder the publisher wrote, left in place (this publication has no set ${name})`);
  }
  return dropped;
}

/** Removes the dropped sets' folders, returning the names of those removed. */
async function removeDroppedSets(tree: FsLayout, dropped: readonly DroppedSet[], warn: (message: string) => void): Promise<string[]> {
  const removed: string[] = [];
  for (const set of dropped) {
    try {
      await tree.removeFolder(SET_FILES.directory(set.name), set.files);
      removed.push(set.name);
    } catch (error) {
      // KV already names this publication: a folder that changed since it was looked at must not keep the tree's marker from following.
      warn(`could not remove ${SET_FILES.directory(set.name)} of the dropped set ${set.name}, left in place: ${(error as Error).message}`);
    }
  }
  return removed;
}

/**
 * Publishes a tree: verifies it, refuses a plan over KV's size limits or one
 * that would stop serving most tags (`allowDrop` overrides), writes to KV only
 * what differs from what the namespace holds (content, pointers, `publication`
 * last), deletes the keys of what the tree no longer holds; a tree that
 * describes exactly the current publication writes nothing and keeps its
 * generation; then writes `frontdoor/first-seen.json` and the sets' files,
 * removes the folders of sets it no longer has, and finally writes the
 * `frontdoor/generation` marker into the tree, so mirrors only see the new
 * marker once KV describes it.
 */
export async function publishTree(treeDir: string, target: KvTarget, options: PublishTreeOptions = {}): Promise<PublishTreeResult> {
  await checkTreeFolder(treeDir);
  const tree = new FsLayout(treeDir);
  // Lookaside files another tool wrote (skopeo's lookaside-staging) get the blob copy mirrors serve.
  if (options.writeTree ?? true) await adoptLookasideFiles(treeDir);
  const treeGeneration = await readTreeGeneration(tree);
  const [publication, started] = await Promise.all([target.readPublication(), target.readText(keys.publishing())]);
  const cutOff = parsePublishing(started);
  if (cutOff !== null && cutOff.generation > (publication?.generation ?? 0)) {
    options.warn?.(
      `generation ${cutOff.generation}, started ${cutOff.started}, never finished: some tags may already serve its manifests while publication names ${publication?.generation ?? "none"}; this publication completes it`,
    );
  }
  const generation = nextGeneration(treeGeneration, Math.max(publication?.generation ?? 0, cutOff?.generation ?? 0) || null);
  const listed = await target.listPublished();
  const currentKeys = [...listed.keys()];
  const plan = await planPublication(tree, {
    generation,
    published: rfc3339(options.now ?? new Date()),
    currentKeys,
    currentHashes: publishedHashes(listed),
    current: publication,
    ...(publication === null ? {} : { publishedFirstSeen: () => publishedFirstSeen(target, publication) }),
    ...(options.sets === undefined ? {} : { sets: options.sets }),
  });
  checkKvLimits(plan);
  checkDroppedTags(plan, currentKeys, { allowDrop: options.allowDrop ?? false });
  checkDroppedSignatures(plan, currentKeys, { allowDrop: options.allowDrop ?? false });
  // The markers last, so mirrors only see a new generation once everything it names is in the tree.
  const treeFiles = [
    { path: LAYOUT_FILES.firstSeen, bytes: new TextEncoder().encode(`${JSON.stringify(plan.firstSeen, null, 1)}\n`) },
    ...plan.setFiles,
    ...plan.setMarkers,
  ];
  const treeMarker = { path: LAYOUT_FILES.generation, bytes: plan.marker };
  const writeTree = options.writeTree ?? true;
  const warn = options.warn ?? (() => undefined);
  // A tree file that could not be written after KV changed would leave mirrors without the new marker.
  if (writeTree) for (const file of [...treeFiles, treeMarker]) await tree.checkWritable(file.path);
  const dropped = writeTree ? await droppedSetFolders(tree, options.sets ?? [], warn) : [];
  // With the content, before any pointer: a run cut off from here on is reported by the next one and by the status page.
  if (!plan.unchanged) plan.content.unshift(publishingEntry({ generation: plan.generation, started: rfc3339(new Date()) }));
  await target.applyPlan(plan);
  if (!writeTree) return { ...plan, removedSets: [] };
  // Rewritten only when they change, so an unchanged tree gives mirrors nothing new to sync.
  for (const file of treeFiles) await writeIfChanged(tree, file.path, file.bytes);
  const removedSets = await removeDroppedSets(tree, dropped, warn);
  await writeIfChanged(tree, treeMarker.path, treeMarker.bytes);
  return { ...plan, removedSets };
}
