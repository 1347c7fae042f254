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
import { checkTreeFolder, FsLayout } from "./fs-layout";
import { adoptLookasideFiles } from "../signing/sign-tree";
import type { KvTarget } from "../kv/kv-target";
import type { ContentSet } from "../../../src/publish/content-sets";

export interface PublishTreeOptions {
  /** Time of the publication; defaults to now. */
  now?: Date;
  /** Write `frontdoor/first-seen.json` and the marker into the tree after the KV writes (default true). */
  writeTree?: boolean;
  /** Publish even when it stops serving every tag, or most of them (`--allow-drop`). */
  allowDrop?: boolean;
  /** Told when an earlier publication was cut off before it finished; this one completes it. */
  warn?: (message: string) => void;
  /** The operator's content sets (`frontdoor publish --sets sets.toml`). */
  sets?: readonly ContentSet[];
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

/**
 * Publishes a tree: verifies it, refuses a plan over KV's size limits or one
 * that would stop serving most tags (`allowDrop` overrides), writes to KV only
 * what differs from what the namespace holds (content, pointers, `publication`
 * last), deletes the keys of what the tree no longer holds; a tree that
 * describes exactly the current publication writes nothing and keeps its
 * generation; then writes `frontdoor/first-seen.json` and finally the
 * `frontdoor/generation` marker into the tree, so mirrors only see the new
 * marker once KV describes it.
 */
export async function publishTree(treeDir: string, target: KvTarget, options: PublishTreeOptions = {}): Promise<PublicationPlan> {
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
    ...(publication !== null && (await tree.readFile(LAYOUT_FILES.firstSeen)) === null ? { publishedFirstSeen: await publishedFirstSeen(target, publication) } : {}),
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
    { path: LAYOUT_FILES.generation, bytes: plan.marker },
  ];
  const writeTree = options.writeTree ?? true;
  // A tree file that could not be written after KV changed would leave mirrors without the new marker.
  if (writeTree) for (const file of treeFiles) await tree.checkWritable(file.path);
  // With the content, before any pointer: a run cut off from here on is reported by the next one and by the status page.
  if (!plan.unchanged) plan.content.unshift(publishingEntry({ generation: plan.generation, started: rfc3339(new Date()) }));
  await target.applyPlan(plan);
  // Rewritten only when they change, so an unchanged tree gives mirrors nothing new to sync.
  if (writeTree) for (const file of treeFiles) await writeIfChanged(tree, file.path, file.bytes);
  return plan;
}
