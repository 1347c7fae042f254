import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gpgExportPublicKey, gpgFingerprint, gpgGenerateKey } from "../signing/gpg";
import { loadSigningKey, writeKeyPair } from "../signing/key-files";
import { signTree, type SignedRef } from "../signing/sign-tree";

/** The registry name the demo image is signed for: the front door's default address. */
export const DEMO_IDENTITY = "127.0.0.1:8787";
const DEMO_REF = "demo/hello:latest";
const GPG_USER = "registry-frontdoor demo <demo@frontdoor.invalid>";

/** The local stack's demo signing keys, kept in its state directory; never used outside it. */
export interface DemoKeys {
  dir: string;
  /** Encrypted sigstore private key and its passphrase file. */
  privateKey: string;
  passphraseFile: string;
  /** PEM public key, what `GET /signing-key.pub` serves. */
  publicKey: string;
  /** GNUPGHOME holding the demo GPG key, its fingerprint, and the armored public key policies name. */
  gpgHome: string;
  gpgFingerprint: string;
  gpgPublicKey: string;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Makes the demo keys once (`<stateDir>/signing/`) and returns where they are. */
export async function ensureDemoKeys(stateDir: string): Promise<DemoKeys> {
  const dir = join(stateDir, "signing");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keys = {
    dir,
    privateKey: join(dir, "demo.private"),
    passphraseFile: join(dir, "passphrase"),
    publicKey: join(dir, "demo.pub"),
    gpgHome: join(dir, "gnupg"),
    gpgPublicKey: join(dir, "demo-gpg.asc"),
  };
  if (!(await exists(keys.publicKey))) {
    const passphrase = "demo passphrase, local stack only";
    await writeFile(keys.passphraseFile, `${passphrase}\n`, { mode: 0o600 });
    await writeKeyPair(join(dir, "demo"), passphrase);
  }
  let fingerprint: string;
  if (await exists(keys.gpgPublicKey)) {
    fingerprint = await gpgFingerprint({ homedir: keys.gpgHome }, GPG_USER);
  } else {
    fingerprint = await gpgGenerateKey(keys.gpgHome, GPG_USER);
    await writeFile(keys.gpgPublicKey, await gpgExportPublicKey({ homedir: keys.gpgHome }, fingerprint));
  }
  return { ...keys, gpgFingerprint: fingerprint };
}

/** Signs `demo/hello:latest` in the tree in both forms with the demo keys, unless it already is. */
export async function signDemoTree(tree: string, keys: DemoKeys): Promise<SignedRef[]> {
  const passphrase = (await readFile(keys.passphraseFile, "utf8")).split("\n")[0]!;
  return signTree(tree, {
    registry: DEMO_IDENTITY,
    sigstoreKey: await loadSigningKey(keys.privateKey, passphrase),
    gpg: { keyId: keys.gpgFingerprint, homedir: keys.gpgHome },
    only: new Set([DEMO_REF]),
  });
}

/**
 * The containers-policy.json(5) that makes podman and skopeo require the demo
 * signature for images from `registry` (host:port): GPG simple signing
 * (`signedBy`), or sigstore (`sigstoreSigned`). A registry other than the one
 * the demo was signed for is remapped to it (`remapIdentity`).
 */
export function demoPolicy(keys: DemoKeys, registry: string, form: "gpg" | "sigstore"): string {
  const signedIdentity = registry === DEMO_IDENTITY ? { type: "matchRepoDigestOrExact" } : { type: "remapIdentity", prefix: registry, signedPrefix: DEMO_IDENTITY };
  const requirement =
    form === "gpg"
      ? { type: "signedBy", keyType: "GPGKeys", keyPath: keys.gpgPublicKey, signedIdentity }
      : { type: "sigstoreSigned", keyPath: keys.publicKey, signedIdentity };
  return `${JSON.stringify({ default: [{ type: "insecureAcceptAnything" }], transports: { docker: { [registry]: [requirement] } } }, null, 2)}\n`;
}

/** The containers-registries.d(5) entry: lookaside signatures at the front door, and sigstore attachments. */
export function demoRegistriesD(registry: string, frontDoorUrl: string): string {
  return ["docker:", `  ${registry}:`, `    lookaside: ${frontDoorUrl}/signatures`, "    use-sigstore-attachments: true", ""].join("\n");
}

/**
 * The policy and registries.d files for the demo, written next to the keys; returns their paths.
 * registries.d sits where podman looks for it under a HOME (`<home>/.config/containers/registries.d`).
 */
export async function writeDemoPolicies(keys: DemoKeys, registry: string, frontDoorUrl: string): Promise<{ gpgPolicy: string; sigstorePolicy: string; home: string; registriesD: string }> {
  const home = join(keys.dir, "home");
  const paths = { gpgPolicy: join(keys.dir, "policy-gpg.json"), sigstorePolicy: join(keys.dir, "policy-sigstore.json"), home, registriesD: join(home, ".config", "containers", "registries.d") };
  await mkdir(paths.registriesD, { recursive: true });
  await writeFile(paths.gpgPolicy, demoPolicy(keys, registry, "gpg"));
  await writeFile(paths.sigstorePolicy, demoPolicy(keys, registry, "sigstore"));
  await writeFile(join(paths.registriesD, "frontdoor.yaml"), demoRegistriesD(registry, frontDoorUrl));
  return paths;
}
