import type { Digest } from "../oci/reference";
import { keys } from "./keys";
import type { SignatureRecord } from "./records";

/** Read access to what the publisher stored about signatures; the worker never holds a private key. */
export class SignatureStore {
  constructor(private readonly kv: KVNamespace) {}

  /** The record of lookaside file `signature-<index>` of `digest` in `repository`. */
  lookaside(repository: string, digest: Digest, index: number): Promise<SignatureRecord | null> {
    return this.kv.get<SignatureRecord>(keys.signature(repository, digest, index), "json");
  }

  /** The PEM public key the publication's signatures verify with, or null when none was published. */
  signingKey(): Promise<string | null> {
    return this.kv.get(keys.signingKey(), "text");
  }
}
