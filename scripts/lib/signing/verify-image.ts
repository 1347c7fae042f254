import type { KeyObject } from "node:crypto";
import { checkDescriptor } from "../../../src/oci/descriptor";
import type { Digest } from "../../../src/oci/reference";
import { MAX_LOOKASIDE_SIGNATURES } from "../../../src/signing/lookaside";
import { attachmentTag, SIGSTORE } from "../../../src/signing/sigstore";
import { SigningError } from "./errors";
import { gpgVerify } from "./gpg";
import { parsePayload, type SignatureForm, type SignedClaim } from "./payload";
import { verifyPayload } from "./sigstore-signature";
import type { ImageSource, ResolvedManifest } from "./sources";

/** Payloads are a few hundred bytes; anything much larger is not one. */
const MAX_PAYLOAD_BYTES = 64 * 1024;

/** What must be signed, and with which keys. */
export interface SignatureRequirement {
  repository: string;
  /** The tag the digest was resolved from; null for a pull by digest. */
  tag: string | null;
  digest: Digest;
  /** Accept sigstore attachments signed by this key. */
  sigstoreKey?: KeyObject;
  /** Accept lookaside signatures by these OpenPGP public keys (as `gpg --export` writes them). */
  gpgKeys?: Uint8Array;
  /** When set, the signed reference's registry host must be this one; otherwise any host, as the image may come from a mirror or an alias. */
  registry?: string;
}

export interface VerifiedSignature {
  form: SignatureForm;
  claim: SignedClaim;
}

/** Splits `host[:port]/path[:tag][@digest]` into its registry, repository path and tag. */
export function splitReference(reference: string): { registry: string; path: string; tag: string | null; digest: string | null } | null {
  const at = reference.indexOf("@");
  const named = at < 0 ? reference : reference.slice(0, at);
  const digest = at < 0 ? null : reference.slice(at + 1);
  const slash = named.indexOf("/");
  if (slash <= 0) return null;
  const registry = named.slice(0, slash);
  const rest = named.slice(slash + 1);
  const colon = rest.lastIndexOf(":");
  return colon < 0 ? { registry, path: rest, tag: null, digest } : { registry, path: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
}

/**
 * Whether a signature's claim covers what was asked for: the same digest
 * (a signature naming another digest proves nothing about this one), the same
 * repository, and, for a pull by tag, the same tag; this is containers/image's
 * `matchRepoDigestOrExact`, with the registry host checked only when asked.
 */
export function claimProblem(claim: SignedClaim, requirement: SignatureRequirement): string | null {
  if (claim.manifestDigest !== requirement.digest) return `it signs ${claim.manifestDigest}, not ${requirement.digest}`;
  const signed = splitReference(claim.dockerReference);
  if (signed === null) return `it names ${JSON.stringify(claim.dockerReference)}, not a full reference`;
  if (signed.path !== requirement.repository) return `it names the repository ${signed.path}, not ${requirement.repository}`;
  if (requirement.tag !== null && signed.tag !== requirement.tag) return `it names ${claim.dockerReference}, not the tag ${requirement.tag}`;
  if (requirement.registry !== undefined && signed.registry !== requirement.registry) return `it names the registry ${signed.registry}, not ${requirement.registry}`;
  return null;
}

/** Reads a payload whose signature verified and keeps it when its claim covers the requirement. */
function record(verified: VerifiedSignature[], problems: string[], where: string, form: SignatureForm, payload: Uint8Array, requirement: SignatureRequirement): void {
  let claim: SignedClaim;
  try {
    claim = parsePayload(payload, form);
  } catch (error) {
    if (!(error instanceof SigningError)) throw error;
    problems.push(`${where}: signed by the key, but ${error.message}`);
    return;
  }
  const problem = claimProblem(claim, requirement);
  if (problem === null) verified.push({ form, claim });
  else problems.push(`${where}: signed by the key, but ${problem}`);
}

async function sigstoreSignatures(source: ImageSource, requirement: SignatureRequirement, key: KeyObject, problems: string[]): Promise<VerifiedSignature[]> {
  const tag = attachmentTag(requirement.digest);
  const attachment = await source.manifest(requirement.repository, tag);
  if (attachment === null) {
    problems.push(`${source.description} has no sigstore attachment ${requirement.repository}:${tag}`);
    return [];
  }
  const document = JSON.parse(new TextDecoder().decode(attachment.bytes)) as { layers?: unknown };
  const layers = Array.isArray(document.layers) ? document.layers : [];
  const verified: VerifiedSignature[] = [];
  for (const [i, layer] of layers.entries()) {
    const where = `sigstore signature ${i + 1}/${layers.length}`;
    const check = checkDescriptor(layer);
    const signature = (layer as { annotations?: Record<string, unknown> }).annotations?.[SIGSTORE.signatureAnnotation];
    if (!check.ok || check.descriptor.mediaType !== SIGSTORE.payloadMediaType || typeof signature !== "string") {
      problems.push(`${where}: not a simple-signing payload layer with a signature`);
      continue;
    }
    if (check.descriptor.size > MAX_PAYLOAD_BYTES) {
      problems.push(`${where}: a ${check.descriptor.size}-byte payload is too large`);
      continue;
    }
    const payload = await source.blob(requirement.repository, check.descriptor);
    if (!verifyPayload(key, payload, signature)) {
      problems.push(`${where}: not signed by the given key`);
      continue;
    }
    record(verified, problems, where, "sigstore", payload, requirement);
  }
  return verified;
}

async function gpgSignatures(source: ImageSource, requirement: SignatureRequirement, keys: Uint8Array, problems: string[]): Promise<VerifiedSignature[]> {
  const verified: VerifiedSignature[] = [];
  for (let index = 1; index <= MAX_LOOKASIDE_SIGNATURES; index++) {
    const file = await source.lookaside(requirement.repository, requirement.digest, index);
    if (file === null) {
      if (index === 1) problems.push(`${source.description} has no lookaside signature for ${requirement.repository}@${requirement.digest}`);
      break;
    }
    const where = `lookaside signature-${index}`;
    let payload: Uint8Array;
    try {
      payload = (await gpgVerify(file, keys)).payload;
    } catch (error) {
      if (!(error instanceof SigningError)) throw error;
      problems.push(`${where}: ${error.message}`);
      continue;
    }
    record(verified, problems, where, "gpg", payload, requirement);
  }
  return verified;
}

/**
 * Checks that `source` holds a valid signature by one of the given keys for
 * the digest, in either form, before anything else of the image is fetched.
 * Returns every valid signature; throws SIGNATURE_MISSING, listing what was
 * wrong with each one found, when there is none.
 */
export async function verifyImageSignature(source: ImageSource, requirement: SignatureRequirement): Promise<VerifiedSignature[]> {
  if (requirement.sigstoreKey === undefined && requirement.gpgKeys === undefined) throw new SigningError("KEY_INVALID", "no key to verify with");
  const problems: string[] = [];
  const verified = [
    ...(requirement.sigstoreKey === undefined ? [] : await sigstoreSignatures(source, requirement, requirement.sigstoreKey, problems)),
    ...(requirement.gpgKeys === undefined ? [] : await gpgSignatures(source, requirement, requirement.gpgKeys, problems)),
  ];
  if (verified.length === 0) {
    throw new SigningError("SIGNATURE_MISSING", `no valid signature for ${requirement.repository}@${requirement.digest} from ${source.description}:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
  }
  return verified;
}

/** The keys a verifying client was given. */
export interface VerifyKeys {
  sigstoreKey?: KeyObject;
  gpgKeys?: Uint8Array;
  registry?: string;
}

export interface VerifiedImage {
  /** The manifest the reference resolved to at the source, its bytes checked. */
  manifest: ResolvedManifest;
  signatures: VerifiedSignature[];
}

/**
 * Resolves `repository:tag` (or `@digest`) at the source and verifies the
 * manifest's signature before anything else is fetched: the step from a tag
 * to a digest is the one that digests alone cannot make trustworthy.
 */
export async function resolveVerified(source: ImageSource, image: { repository: string; tag: string | null; digest: Digest | null }, keys: VerifyKeys): Promise<VerifiedImage> {
  const reference = image.digest ?? image.tag ?? "latest";
  const manifest = await source.manifest(image.repository, reference);
  if (manifest === null) throw new SigningError("SOURCE_INVALID", `${source.description} has no ${image.repository}${image.digest === null ? `:${reference}` : `@${reference}`}`);
  if (image.digest !== null && manifest.descriptor.digest !== image.digest) {
    throw new SigningError("DIGEST_MISMATCH", `${source.description} answered ${manifest.descriptor.digest} for ${image.digest}`);
  }
  const signatures = await verifyImageSignature(source, { repository: image.repository, tag: image.tag, digest: manifest.descriptor.digest, ...keys });
  return { manifest, signatures };
}
