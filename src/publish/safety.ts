import { isDigest } from "../oci/reference";
import { KV_LIMITS, SIGNATURE_PREFIX, TAG_PREFIX } from "../store/keys";
import type { KvWrite, PublicationWrites } from "../store/records";
import { cosignSubject } from "./content-sets";
import { PublishError } from "./errors";

/** A publication may drop at most this share of the tags being served unless the operator says so. */
export const MAX_DROPPED_TAG_SHARE = 0.5;

export interface DropOptions {
  /** The operator's `--allow-drop`: publish even when most or all served tags go away. */
  allowDrop: boolean;
}

const encoder = new TextEncoder();

function valueBytes(write: KvWrite): number {
  return typeof write.value === "string" ? encoder.encode(write.value).byteLength : write.value.byteLength;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Every write of a plan within Workers KV's limits (key, value and metadata
 * sizes), checked before the first write, so an oversized manifest stops the
 * publication while nothing has changed, and the message names it.
 */
export function checkKvLimits(plan: PublicationWrites): void {
  checkKvWriteLimits([...plan.content, ...plan.pointers]);
}

/** Each of `writes` within Workers KV's limits, or a TOO_LARGE error naming the first that is not. */
export function checkKvWriteLimits(writes: readonly KvWrite[]): void {
  for (const write of writes) {
    const keyBytes = encoder.encode(write.key).byteLength;
    if (keyBytes > KV_LIMITS.keyBytes) {
      throw new PublishError("TOO_LARGE", `the KV key ${JSON.stringify(write.key.slice(0, 80))}… is ${keyBytes} bytes, over KV's limit of ${KV_LIMITS.keyBytes}`);
    }
    const bytes = valueBytes(write);
    if (bytes > KV_LIMITS.valueBytes) {
      throw new PublishError(
        "TOO_LARGE",
        `${write.key} is ${bytes} bytes (${mebibytes(bytes)}), over KV's value limit of ${KV_LIMITS.valueBytes} bytes (${mebibytes(KV_LIMITS.valueBytes)}): nothing was written`,
      );
    }
    const metadata = write.metadata === undefined ? 0 : encoder.encode(JSON.stringify(write.metadata)).byteLength;
    if (metadata > KV_LIMITS.metadataBytes) {
      throw new PublishError("TOO_LARGE", `${write.key} has ${metadata} bytes of metadata, over KV's limit of ${KV_LIMITS.metadataBytes}`);
    }
  }
}

/**
 * Whether a `tag:` key names a tag a tool derives from a digest to attach
 * something to that image: cosign's signature, attestation and SBOM tags, and
 * the referrers tag schema's `sha256-<hex>`. Such tags come and go with their image.
 */
function isAttachmentTagKey(key: string): boolean {
  if (!key.startsWith(TAG_PREFIX)) return false;
  const tag = key.slice(key.lastIndexOf(":") + 1);
  return cosignSubject(tag) !== null || isDigest(tag.replace("-", ":"));
}

function isImageTagKey(key: string): boolean {
  return key.startsWith(TAG_PREFIX) && !isAttachmentTagKey(key);
}

/**
 * Refuses a publication that would take away every tag being served, or more
 * than MAX_DROPPED_TAG_SHARE of them, unless `allowDrop`: a tree whose
 * `index.json` lost its refs must not silently empty the registry. Only image
 * tags count: a tree that kept its signatures' tags but lost its images' is
 * refused like one that lost both.
 */
export function checkDroppedTags(plan: PublicationWrites & { summary: { tags: number } }, currentKeys: readonly string[], options: DropOptions): void {
  if (options.allowDrop) return;
  if (!currentKeys.some((key) => key.startsWith(TAG_PREFIX))) {
    if (plan.summary.tags === 0) throw new PublishError("DROPS_TOO_MUCH", "index.json names no refs: there is nothing to publish");
    return;
  }
  // Attachment tags are guarded by checkDroppedSignatures.
  const served = currentKeys.filter(isImageTagKey).length;
  if (served === 0) return;
  const dropped = plan.deletions.pointers.filter(isImageTagKey).length;
  if (plan.summary.tags === 0 || dropped / served > MAX_DROPPED_TAG_SHARE) {
    throw new PublishError(
      "DROPS_TOO_MUCH",
      `this publication would stop serving ${dropped} of the ${served} image tags served now (more than ${MAX_DROPPED_TAG_SHARE * 100}%); ` +
        "check the tree's index.json, or pass --allow-drop if that is what you want",
    );
  }
}

/** The two kinds of signature a tree serves, which different policies require: each is guarded on its own. */
const SIGNATURE_KINDS = [
  { name: "lookaside signatures", holds: (key: string) => key.startsWith(SIGNATURE_PREFIX), where: "the tree's signatures/ folder" },
  { name: "attachment tags (signatures, attestations, SBOMs)", holds: isAttachmentTagKey, where: "the tree's index.json" },
] as const;

/**
 * Refuses, unless `allowDrop`, a publication that would stop serving more
 * than MAX_DROPPED_TAG_SHARE of the lookaside signatures, or of the
 * attachment tags, served now: a tree synced without `signatures/`, or one
 * that lost its attachment tags, must not silently break every pull whose
 * policy requires a signature.
 */
export function checkDroppedSignatures(plan: PublicationWrites, currentKeys: readonly string[], options: DropOptions): void {
  if (options.allowDrop) return;
  const deleted = [...plan.deletions.pointers, ...plan.deletions.content];
  for (const kind of SIGNATURE_KINDS) {
    const served = currentKeys.filter(kind.holds).length;
    const dropped = deleted.filter(kind.holds).length;
    if (served > 0 && dropped / served > MAX_DROPPED_TAG_SHARE) {
      throw new PublishError(
        "DROPS_TOO_MUCH",
        `this publication would stop serving ${dropped} of the ${served} ${kind.name} served now (more than ${MAX_DROPPED_TAG_SHARE * 100}%); ` +
          `check ${kind.where}, or pass --allow-drop if that is what you want`,
      );
    }
  }
}
