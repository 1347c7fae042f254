import type { KeyObject } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { blobPath, LAYOUT_FILES, REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { MEDIA_TYPES } from "../../../src/oci/media-types";
import { computeDigest, isDigest, isRepositoryName, isTag, type Digest } from "../../../src/oci/reference";
import { LOOKASIDE_DIR, lookasidePath, MAX_LOOKASIDE_SIGNATURES, parseLookasideName } from "../../../src/signing/lookaside";
import { attachedDigest, attachmentTag, SIGSTORE } from "../../../src/signing/sigstore";
import type { Descriptor } from "../../../src/oci/descriptor";
import { FsLayout } from "../publish/fs-layout";
import { publicKeyPem } from "./cosign-key";
import { SigningError } from "./errors";
import { gpgExportPublicKey, gpgFingerprint, gpgSign, gpgVerify, stopGpgAgents, type GpgKeyring } from "./gpg";
import { encodePayload, parsePayload, type SignedClaim } from "./payload";
import { signPayload, verifyPayload } from "./sigstore-signature";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface IndexEntry extends Descriptor {
  annotations?: Record<string, string>;
}
interface IndexDocument {
  schemaVersion: 2;
  mediaType?: string;
  manifests: IndexEntry[];
}

/** A tag of the tree that is an image, not a signature attachment. */
export interface TreeRef {
  repository: string;
  tag: string;
  digest: Digest;
}

async function readIndex(tree: FsLayout): Promise<IndexDocument> {
  const bytes = await tree.readFile(LAYOUT_FILES.index);
  if (bytes === null) throw new SigningError("SOURCE_INVALID", `${tree.path(LAYOUT_FILES.index)} is missing: not an OCI image layout`);
  const index = JSON.parse(decoder.decode(bytes)) as IndexDocument;
  if (!Array.isArray(index.manifests)) throw new SigningError("SOURCE_INVALID", `${LAYOUT_FILES.index} has no "manifests" array`);
  return index;
}

function refName(entry: IndexEntry): { repository: string; tag: string } | null {
  const name = entry.annotations?.[REF_NAME_ANNOTATION];
  if (name === undefined) return null;
  const colon = name.lastIndexOf(":");
  const repository = name.slice(0, colon);
  const tag = name.slice(colon + 1);
  return colon > 0 && isRepositoryName(repository) && isTag(tag) ? { repository, tag } : null;
}

/** The image refs of `index.json`: every `<repository>:<tag>` whose tag is not `<alg>-<hex>.sig`. */
export async function imageRefs(treeDir: string): Promise<TreeRef[]> {
  const index = await readIndex(new FsLayout(treeDir));
  const refs: TreeRef[] = [];
  for (const entry of index.manifests) {
    const name = refName(entry);
    if (name !== null && attachedDigest(name.tag) === null && isDigest(entry.digest)) refs.push({ ...name, digest: entry.digest });
  }
  return refs;
}

async function putBlob(tree: FsLayout, bytes: Uint8Array, mediaType: string, extra: Pick<Descriptor, "annotations"> = {}): Promise<Descriptor> {
  const digest = await computeDigest(bytes);
  if ((await tree.readFile(blobPath(digest))) === null) await tree.writeFileAtomic(blobPath(digest), bytes);
  return { mediaType, digest, size: bytes.byteLength, ...extra };
}

/** The payload layers of the sigstore attachment of `subject` in `repository`, as the tree holds them now. */
export async function attachmentLayers(treeDir: string, repository: string, subject: Digest): Promise<Array<{ payload: Uint8Array; signature: string; layer: Descriptor }>> {
  const tree = new FsLayout(treeDir);
  const index = await readIndex(tree);
  const name = `${repository}:${attachmentTag(subject)}`;
  const entry = index.manifests.find((candidate) => candidate.annotations?.[REF_NAME_ANNOTATION] === name);
  if (entry === undefined) return [];
  const manifest = JSON.parse(decoder.decode((await tree.readFile(blobPath(entry.digest)))!)) as { layers?: Descriptor[] };
  const layers: Array<{ payload: Uint8Array; signature: string; layer: Descriptor }> = [];
  for (const layer of manifest.layers ?? []) {
    const signature = layer.annotations?.[SIGSTORE.signatureAnnotation];
    const payload = await tree.readFile(blobPath(layer.digest));
    if (layer.mediaType === SIGSTORE.payloadMediaType && signature !== undefined && payload !== null) layers.push({ payload, signature, layer });
  }
  return layers;
}

async function subjectDescriptor(tree: FsLayout, digest: Digest): Promise<Descriptor> {
  const bytes = await tree.readFile(blobPath(digest));
  if (bytes === null) throw new SigningError("SOURCE_INVALID", `manifest ${digest} is missing from the tree`);
  const { mediaType } = JSON.parse(decoder.decode(bytes)) as { mediaType?: unknown };
  if (typeof mediaType !== "string") throw new SigningError("SOURCE_INVALID", `manifest ${digest} has no mediaType field`);
  return { mediaType, digest, size: bytes.byteLength };
}

/**
 * Adds one signature layer to the sigstore attachment of `subject`: the
 * manifest under the tag `<repository>:<alg>-<hex>.sig` (created if needed,
 * earlier layers kept) with `subject` naming the signed manifest, its config listing the layers as cosign writes it,
 * and the payload as a blob; `index.json` is written last.
 */
export async function attachSigstoreSignature(treeDir: string, repository: string, subject: Digest, payload: Uint8Array, signature: string): Promise<Digest> {
  const tree = new FsLayout(treeDir);
  const existing = (await attachmentLayers(treeDir, repository, subject)).map(({ layer }) => layer);
  const layer = await putBlob(tree, payload, SIGSTORE.payloadMediaType, { annotations: { [SIGSTORE.signatureAnnotation]: signature } });
  const layers = [...existing.filter((old) => old.digest !== layer.digest || old.annotations?.[SIGSTORE.signatureAnnotation] !== signature), layer];
  const config = { architecture: "", os: "", config: {}, rootfs: { type: "layers", diff_ids: layers.map((entry) => entry.digest) } };
  const configDescriptor = await putBlob(tree, encoder.encode(JSON.stringify(config)), MEDIA_TYPES.ociConfig);
  // `subject` lists the attachment among the signed manifest's referrers (OCI Distribution Spec v1.1); cosign-format readers ignore it.
  const manifest = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDescriptor, layers, subject: await subjectDescriptor(tree, subject) };
  const manifestDescriptor = await putBlob(tree, encoder.encode(JSON.stringify(manifest)), MEDIA_TYPES.ociManifest);
  const index = await readIndex(tree);
  const name = `${repository}:${attachmentTag(subject)}`;
  index.manifests = [
    ...index.manifests.filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] !== name),
    { ...manifestDescriptor, annotations: { [REF_NAME_ANNOTATION]: name } },
  ];
  await tree.writeFileAtomic(LAYOUT_FILES.index, JSON.stringify(index));
  return manifestDescriptor.digest;
}

/** The lookaside signature files of `subject` in `repository`, signature-1 on, as the tree holds them now. */
export async function lookasideFiles(treeDir: string, repository: string, subject: Digest): Promise<Uint8Array[]> {
  const tree = new FsLayout(treeDir);
  const files: Uint8Array[] = [];
  for (let index = 1; index <= MAX_LOOKASIDE_SIGNATURES; index++) {
    const bytes = await tree.readFile(lookasidePath({ repository, digest: subject, index }));
    if (bytes === null) break;
    files.push(bytes);
  }
  return files;
}

/** Writes a lookaside signature file as the next `signature-<n>` of `subject`, and its blob copy; returns n. */
export async function addLookasideSignature(treeDir: string, repository: string, subject: Digest, signature: Uint8Array): Promise<number> {
  const tree = new FsLayout(treeDir);
  const index = (await lookasideFiles(treeDir, repository, subject)).length + 1;
  if (index > MAX_LOOKASIDE_SIGNATURES) throw new SigningError("SOURCE_INVALID", `${repository}@${subject} already has ${MAX_LOOKASIDE_SIGNATURES} lookaside signatures`);
  await putBlob(tree, signature, "application/octet-stream");
  await tree.writeFileAtomic(lookasidePath({ repository, digest: subject, index }), signature);
  return index;
}

/**
 * Gives every lookaside file under `signatures/` that has no blob copy one,
 * so signatures another tool wrote there (`skopeo copy --sign-by` with a
 * `lookaside-staging` directory) are published and mirrored like ours.
 * Returns how many copies were written.
 */
export async function adoptLookasideFiles(treeDir: string): Promise<number> {
  const tree = new FsLayout(treeDir);
  let entries: string[];
  try {
    entries = await readdir(tree.path(LOOKASIDE_DIR), { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  let adopted = 0;
  for (const entry of entries.sort()) {
    const name = relative(tree.path(LOOKASIDE_DIR), join(tree.path(LOOKASIDE_DIR), entry));
    if (parseLookasideName(name) === null) continue;
    const bytes = await tree.readFile(`${LOOKASIDE_DIR}/${name}`);
    if (bytes === null) continue;
    const digest = await computeDigest(bytes);
    if ((await tree.readFile(blobPath(digest))) !== null) continue;
    await tree.writeFileAtomic(blobPath(digest), bytes);
    adopted++;
  }
  return adopted;
}

export interface SignTreeOptions {
  /** The registry host clients name the images by, e.g. `registry.example.org`: signatures vouch for `<registry>/<repository>:<tag>`. */
  registry: string;
  /** Sign sigstore attachments with this ECDSA P-256 key. */
  sigstoreKey?: KeyObject;
  /** Sign lookaside (GPG simple signing) signatures with this secret key. */
  gpg?: { keyId: string } & GpgKeyring;
  /** Only these refs (`<repository>:<tag>`); every image ref of the tree when absent. */
  only?: ReadonlySet<string>;
  /** Write the sigstore key's public half to `frontdoor/signing-key.pub` (default true). */
  publishKey?: boolean;
  /** Time written into the payloads. */
  now?: Date;
}

export interface SignedRef extends TreeRef {
  /** Which signatures were written; a form is left out when a valid one by the same key was already there. */
  added: Array<"sigstore" | "gpg">;
}

const CREATOR = "registry-frontdoor";

function sameClaim(a: SignedClaim, b: SignedClaim): boolean {
  return a.dockerReference === b.dockerReference && a.manifestDigest === b.manifestDigest;
}

async function hasSigstoreSignature(treeDir: string, ref: TreeRef, claim: SignedClaim, key: KeyObject): Promise<boolean> {
  for (const { payload, signature } of await attachmentLayers(treeDir, ref.repository, ref.digest)) {
    try {
      if (sameClaim(parsePayload(payload, "sigstore"), claim) && verifyPayload(key, payload, signature)) return true;
    } catch {
      // another kind of layer, or a broken one: not ours
    }
  }
  return false;
}

async function hasGpgSignature(treeDir: string, ref: TreeRef, claim: SignedClaim, publicKey: Uint8Array): Promise<boolean> {
  for (const file of await lookasideFiles(treeDir, ref.repository, ref.digest)) {
    try {
      if (sameClaim(parsePayload((await gpgVerify(file, publicKey)).payload, "gpg"), claim)) return true;
    } catch {
      // made by another key, or not a signature
    }
  }
  return false;
}

/** A manifest's digest and, for an index, the digests of the manifests it lists. */
export async function signedDigests(treeDir: string, digest: Digest): Promise<Digest[]> {
  const bytes = await new FsLayout(treeDir).readFile(blobPath(digest));
  if (bytes === null) throw new SigningError("SOURCE_INVALID", `manifest ${digest} is missing from the tree`);
  const document = JSON.parse(decoder.decode(bytes)) as { manifests?: Array<{ digest?: unknown }> };
  const children = Array.isArray(document.manifests) ? document.manifests.map((entry) => entry.digest).filter((child): child is Digest => typeof child === "string" && isDigest(child)) : [];
  return [digest, ...children];
}

/**
 * Signs the image refs of a tree before it is published: for each
 * `<repository>:<tag>` a sigstore attachment layer and/or a lookaside file,
 * both vouching for `<registry>/<repository>:<tag>` at the ref's digest and
 * at the digest of each manifest an index lists, as `skopeo copy --all --sign-by` does.
 * Signing again with the same key adds nothing; other signatures are kept.
 */
export async function signTree(treeDir: string, options: SignTreeOptions): Promise<SignedRef[]> {
  try {
    return await signRefs(treeDir, options);
  } finally {
    // gpg starts an agent in the home directory it signs from; one we were handed explicitly is ours to stop.
    if (options.gpg?.homedir !== undefined) await stopGpgAgents(options.gpg);
  }
}

async function signRefs(treeDir: string, options: SignTreeOptions): Promise<SignedRef[]> {
  if (options.sigstoreKey === undefined && options.gpg === undefined) throw new SigningError("KEY_INVALID", "nothing to sign with: give a sigstore key, a GPG key, or both");
  const timestamp = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const refs = (await imageRefs(treeDir)).filter((ref) => options.only === undefined || options.only.has(`${ref.repository}:${ref.tag}`));
  const gpgPublic = options.gpg === undefined ? null : encoder.encode(await gpgExportPublicKey(options.gpg, await gpgFingerprint(options.gpg, options.gpg.keyId)));
  const signed: SignedRef[] = [];
  for (const ref of refs) {
    const added = new Set<"sigstore" | "gpg">();
    // containers/image checks the signatures of the manifest it pulls: the index for `copy --all`, one platform's manifest otherwise.
    for (const digest of await signedDigests(treeDir, ref.digest)) {
      const target = { ...ref, digest };
      const claim: SignedClaim = { dockerReference: `${options.registry}/${ref.repository}:${ref.tag}`, manifestDigest: digest };
      if (options.sigstoreKey !== undefined && !(await hasSigstoreSignature(treeDir, target, claim, options.sigstoreKey))) {
        const payload = encodePayload("sigstore", claim, { creator: CREATOR, timestamp });
        await attachSigstoreSignature(treeDir, ref.repository, digest, payload, signPayload(options.sigstoreKey, payload));
        added.add("sigstore");
      }
      if (options.gpg !== undefined && gpgPublic !== null && !(await hasGpgSignature(treeDir, target, claim, gpgPublic))) {
        const payload = encodePayload("gpg", claim, { creator: CREATOR, timestamp });
        await addLookasideSignature(treeDir, ref.repository, digest, await gpgSign(payload, options.gpg.keyId, options.gpg));
        added.add("gpg");
      }
    }
    signed.push({ ...ref, added: [...added] });
  }
  if (options.sigstoreKey !== undefined && (options.publishKey ?? true)) {
    await new FsLayout(treeDir).writeFileAtomic(LAYOUT_FILES.signingKey, publicKeyPem(options.sigstoreKey));
  }
  return signed;
}
