import { readFile } from "node:fs/promises";
import { readPublicKey } from "./cosign-key";
import type { VerifyKeys } from "./verify-image";

/** Reads the keys a verifying command was given: `--key <pem>` (sigstore) and/or `--gpg-key <file>` (lookaside). */
export async function loadVerifyKeys(options: { key?: string; gpgKey?: string; identity?: string }): Promise<VerifyKeys> {
  return {
    ...(options.key === undefined ? {} : { sigstoreKey: readPublicKey(await readFile(options.key, "utf8")) }),
    ...(options.gpgKey === undefined ? {} : { gpgKeys: new Uint8Array(await readFile(options.gpgKey)) }),
    ...(options.identity === undefined ? {} : { registry: options.identity }),
  };
}
