import type { KeyObject } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { decryptPrivateKey, generateKeyPair } from "./cosign-key";
import { SigningError } from "./errors";

/** Environment variable the CLI reads a private key's passphrase from when no file is given. */
export const PASSPHRASE_ENV = "FRONTDOOR_KEY_PASSPHRASE";

/**
 * The passphrase of a private key: the first line of `--passphrase-file`
 * (as skopeo's `--sign-passphrase-file` reads it), else `FRONTDOOR_KEY_PASSPHRASE`
 * (set and empty means no passphrase). The CLI never prompts.
 */
export async function readPassphrase(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (file !== undefined) return (await readFile(file, "utf8")).split(/\r?\n/)[0] ?? "";
  const value = env[PASSPHRASE_ENV];
  if (value === undefined) throw new SigningError("KEY_INVALID", `give the key's passphrase with --passphrase-file <file> or ${PASSPHRASE_ENV}`);
  return value;
}

/** Opens the encrypted sigstore private key at `path`. */
export async function loadSigningKey(path: string, passphrase: string): Promise<KeyObject> {
  return decryptPrivateKey(await readFile(path, "utf8"), passphrase);
}

/** Writes `<prefix>.private` (mode 0600) and `<prefix>.pub`, refusing to replace either; returns their paths. */
export async function writeKeyPair(prefix: string, passphrase: string): Promise<{ privateKey: string; publicKey: string }> {
  const pair = await generateKeyPair(passphrase);
  const paths = { privateKey: `${prefix}.private`, publicKey: `${prefix}.pub` };
  try {
    await writeFile(paths.privateKey, pair.privateKey, { flag: "wx", mode: 0o600 });
    await writeFile(paths.publicKey, pair.publicKey, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new SigningError("KEY_INVALID", `${(error as NodeJS.ErrnoException).path} exists; not replacing a key`);
    throw error;
  }
  return paths;
}
