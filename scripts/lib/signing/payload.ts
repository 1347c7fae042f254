import { isDigest, type Digest } from "../../../src/oci/reference";
import { SigningError } from "./errors";

/**
 * The "simple signing" payload both signature forms sign (containers-signature(5)):
 * `{"critical":{"identity":{"docker-reference"},"image":{"docker-manifest-digest"},"type"},"optional":{...}}`.
 * Only `type` tells the forms apart.
 */
export const PAYLOAD_TYPES = {
  /** Sigstore (cosign) attachments. */
  sigstore: "cosign container image signature",
  /** GPG simple signing in a lookaside store. */
  gpg: "atomic container signature",
} as const;
export type SignatureForm = keyof typeof PAYLOAD_TYPES;

/** What a signature vouches for: this manifest digest under this name. */
export interface SignedClaim {
  /** A fully qualified reference, `<registry>/<repository>[:tag]`. */
  dockerReference: string;
  manifestDigest: Digest;
}

export interface PayloadOptions {
  creator?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
}

/** Serializes a payload once; the signature covers exactly these bytes. */
export function encodePayload(form: SignatureForm, claim: SignedClaim, optional: PayloadOptions = {}): Uint8Array {
  const document = {
    critical: {
      identity: { "docker-reference": claim.dockerReference },
      image: { "docker-manifest-digest": claim.manifestDigest },
      type: PAYLOAD_TYPES[form],
    },
    optional: {
      ...(optional.creator === undefined ? {} : { creator: optional.creator }),
      ...(optional.timestamp === undefined ? {} : { timestamp: optional.timestamp }),
    },
  };
  return new TextEncoder().encode(JSON.stringify(document));
}

function object(value: unknown, where: string, exactly?: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new SigningError("PAYLOAD_INVALID", `${where} is not a JSON object`);
  const record = value as Record<string, unknown>;
  if (exactly !== undefined) {
    const found = Object.keys(record).sort();
    if (found.join("\0") !== [...exactly].sort().join("\0")) {
      throw new SigningError("PAYLOAD_INVALID", `${where} must have exactly the fields ${exactly.join(", ")}, has ${found.join(", ") || "none"}`);
    }
  }
  return record;
}

/**
 * Reads a payload as strictly as containers/image does: exactly the fields
 * above in `critical` (unknown ones would be claims this reader cannot check),
 * the expected `type`, a valid digest; `optional` may hold anything or be null.
 */
export function parsePayload(bytes: Uint8Array, form: SignatureForm): SignedClaim {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw new SigningError("PAYLOAD_INVALID", "the payload is not UTF-8 JSON");
  }
  const top = object(value, "the payload");
  const extra = Object.keys(top).filter((key) => key !== "critical" && key !== "optional");
  if (!("critical" in top) || !("optional" in top) || extra.length > 0) throw new SigningError("PAYLOAD_INVALID", "the payload must have exactly the fields critical and optional");
  if (top.optional !== null) object(top.optional, "optional");
  const critical = object(top.critical, "critical", ["identity", "image", "type"]);
  if (critical.type !== PAYLOAD_TYPES[form]) throw new SigningError("PAYLOAD_INVALID", `critical.type is ${JSON.stringify(critical.type)}, not ${JSON.stringify(PAYLOAD_TYPES[form])}`);
  const image = object(critical.image, "critical.image", ["docker-manifest-digest"]);
  const identity = object(critical.identity, "critical.identity", ["docker-reference"]);
  const digest = image["docker-manifest-digest"];
  const reference = identity["docker-reference"];
  if (typeof digest !== "string" || !isDigest(digest)) throw new SigningError("PAYLOAD_INVALID", "critical.image.docker-manifest-digest is not a digest");
  if (typeof reference !== "string" || reference === "") throw new SigningError("PAYLOAD_INVALID", "critical.identity.docker-reference is not a reference");
  return { dockerReference: reference, manifestDigest: digest };
}
