import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../process/processes";
import { SigningError } from "./errors";

/**
 * GPG simple signing through the `gpg` program (GnuPG 2.2): the signature is
 * an OpenPGP signed message holding the payload (`gpg --sign`, binary), the
 * form containers/image verifies for a `signedBy` policy. Every call runs in
 * its own home directory or the caller's, and stops the agents it may start.
 */

export interface GpgKeyring {
  /** GNUPGHOME; the user's own when absent. */
  homedir?: string;
}

function homeArgs({ homedir }: GpgKeyring): string[] {
  return homedir === undefined ? [] : ["--homedir", homedir];
}

async function gpg(keyring: GpgKeyring, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const result = await runCommand("gpg", [...homeArgs(keyring), "--batch", "--no-tty", ...args], { timeoutMs: 60_000 });
  if (result.code !== 0) throw new SigningError("GPG_FAILED", `gpg ${args.filter((arg) => !arg.startsWith("/")).join(" ")} failed: ${result.stderr.trim()}`);
  return result;
}

/** Stops the gpg-agent (and any other daemon) of a home directory this process started it in. */
export async function stopGpgAgents(keyring: GpgKeyring): Promise<void> {
  if (keyring.homedir === undefined) return;
  await runCommand("gpgconf", ["--homedir", keyring.homedir, "--kill", "all"], { timeoutMs: 30_000 });
}

/** A private temporary directory; socket paths inside a GnuPG home must stay short. */
async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), "fd-gpg-"));
}

/** Signs `payload` with the secret key `keyId`; the key must need no passphrase or have it cached in the agent. */
export async function gpgSign(payload: Uint8Array, keyId: string, keyring: GpgKeyring = {}): Promise<Uint8Array> {
  const dir = await scratch();
  try {
    await writeFile(join(dir, "payload"), payload);
    await gpg(keyring, ["--pinentry-mode", "loopback", "--passphrase", "", "--local-user", keyId, "--output", join(dir, "signature"), "--sign", join(dir, "payload")]);
    return new Uint8Array(await readFile(join(dir, "signature")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface GpgVerified {
  /** The signed payload. */
  payload: Uint8Array;
  /** Fingerprint of the key that made the signature. */
  fingerprint: string;
}

/**
 * Verifies a signed message against the public keys in `publicKeys` (armored
 * or binary, as `gpg --export` writes them) and nothing else: a fresh keyring
 * holds only them. Throws SIGNATURE_INVALID unless gpg reports VALIDSIG.
 */
export async function gpgVerify(signature: Uint8Array, publicKeys: Uint8Array): Promise<GpgVerified> {
  const dir = await scratch();
  const keyring = { homedir: join(dir, "home") };
  try {
    await mkdir(keyring.homedir, { mode: 0o700 });
    await writeFile(join(dir, "keys"), publicKeys);
    await writeFile(join(dir, "signature"), signature);
    await gpg(keyring, ["--import", join(dir, "keys")]);
    const result = await runCommand("gpg", [...homeArgs(keyring), "--batch", "--no-tty", "--status-fd", "1", "--output", join(dir, "payload"), "--decrypt", join(dir, "signature")], {
      timeoutMs: 60_000,
    });
    const valid = /^\[GNUPG:\] VALIDSIG ([0-9A-F]{40})/m.exec(result.stdout);
    if (result.code !== 0 || valid === null) throw new SigningError("SIGNATURE_INVALID", `the GPG signature does not verify with the given keys: ${result.stderr.trim().split("\n").at(-1) ?? ""}`);
    return { payload: new Uint8Array(await readFile(join(dir, "payload"))), fingerprint: valid[1]! };
  } finally {
    await stopGpgAgents(keyring).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Creates a passphrase-less Ed25519 signing key in `homedir` (for the demo and tests) and returns its fingerprint. */
export async function gpgGenerateKey(homedir: string, userId: string): Promise<string> {
  await mkdir(homedir, { recursive: true, mode: 0o700 });
  const keyring = { homedir };
  try {
    await gpg(keyring, ["--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", userId, "ed25519", "sign", "never"]);
    return await gpgFingerprint(keyring, userId);
  } finally {
    await stopGpgAgents(keyring);
  }
}

/** The fingerprint of the first key matching `keyId`. */
export async function gpgFingerprint(keyring: GpgKeyring, keyId: string): Promise<string> {
  const { stdout } = await gpg(keyring, ["--with-colons", "--list-keys", keyId]);
  const fpr = /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(stdout);
  if (fpr === null) throw new SigningError("GPG_FAILED", `gpg lists no key for ${keyId}`);
  return fpr[1]!;
}

/** The armored public key `keyId`, as a `signedBy` policy's keyPath reads it. */
export async function gpgExportPublicKey(keyring: GpgKeyring, keyId: string): Promise<string> {
  return (await gpg(keyring, ["--armor", "--export", keyId])).stdout;
}
