import { sign, verify, type KeyObject } from "node:crypto";

/**
 * The signature cosign and containers/image put in a sigstore attachment's
 * `dev.cosignproject.cosign/signature` annotation: ECDSA P-256 over SHA-256
 * of the payload bytes, ASN.1 DER (RFC 3279, Ecdsa-Sig-Value), in standard base64.
 */
export function signPayload(privateKey: KeyObject, payload: Uint8Array): string {
  return sign("sha256", payload, { key: privateKey, dsaEncoding: "der" }).toString("base64");
}

/** Whether `signature` (as in the annotation) is a valid signature of `payload` by `publicKey`. */
export function verifyPayload(publicKey: KeyObject, payload: Uint8Array, signature: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  try {
    return verify("sha256", payload, { key: publicKey, dsaEncoding: "der" }, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
