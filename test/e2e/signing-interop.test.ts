import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../../src/oci/reference";
import { lookasidePath } from "../../src/signing/lookaside";
import { skopeo } from "../../scripts/lib/process/daemons";
import { runCommand, type Daemon } from "../../scripts/lib/process/processes";
import { startReferenceRegistry } from "../../scripts/lib/process/reference-registry";
import { readPublicKey } from "../../scripts/lib/signing/cosign-key";
import { gpgExportPublicKey, gpgGenerateKey, stopGpgAgents } from "../../scripts/lib/signing/gpg";
import { imageRefs, signedDigests } from "../../scripts/lib/signing/sign-tree";
import { FrontDoorSource } from "../../scripts/lib/signing/sources";
import { resolveVerified } from "../../scripts/lib/signing/verify-image";
import { DEMO_IDENTITY } from "../../scripts/lib/stack/demo-signing";
import { writeDemoTree } from "../../scripts/lib/stack/demo-tree";
import { startLocalStack, type LocalStack } from "../../scripts/lib/stack/local-stack";
import { frontdoorCli, pullClient } from "./signing-support";

/**
 * Signatures made by an independent implementation: skopeo signs an image
 * while copying it into a reference registry (Debian's docker-registry), its
 * GPG signatures staged as lookaside files into our tree; our publisher
 * publishes them, our verifier and skopeo's accept them through the front door.
 */
const REPOSITORY = "interop/hello";
const SIGNED_AS = `${DEMO_IDENTITY}/${REPOSITORY}:latest`;
/** Debian builds skopeo with sigstore signing and verification cut out. */
const DEBIAN_REFUSAL = "Debian-local change: sigstore disabled";

let scratch: string;
let registry: Daemon;
let registryHost: string;
let stack: LocalStack;
let gpgHome: string;
let gpgPublicKey: string;
let tree: string;
let digest: Digest;

/** skopeo copy of the tree's image to the reference registry, signing as `SIGNED_AS`, with registries.d staging lookaside files into the tree. */
async function skopeoSignedCopy(signArgs: string[], env: NodeJS.ProcessEnv = {}) {
  const dir = await mkdtemp(join(scratch, "skopeo-"));
  const registriesD = join(dir, "registries.d");
  await mkdir(registriesD);
  await writeFile(join(registriesD, "staging.yaml"), ["docker:", `  ${registryHost}:`, `    lookaside-staging: file://${join(tree, "signatures")}`, ""].join("\n"));
  return runCommand(
    "skopeo",
    ["--registries.d", registriesD, "copy", "--all", "--dest-tls-verify=false", "--sign-identity", SIGNED_AS, ...signArgs, `oci:${tree}:${REPOSITORY}:latest`, `docker://${registryHost}/${REPOSITORY}:latest`],
    { env: { ...process.env, ...env, TMPDIR: dir } },
  );
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fd-interop-"));
  const stateDir = join(scratch, "state");
  tree = join(stateDir, "tree");
  await writeDemoTree(tree, { repository: REPOSITORY, message: "signed by skopeo" });
  digest = (await imageRefs(tree))[0]!.digest;
  ({ daemon: registry, host: registryHost } = await startReferenceRegistry(join(scratch, "registry")));
  gpgHome = join(scratch, "g");
  const fingerprint = await gpgGenerateKey(gpgHome, "skopeo signer <skopeo@frontdoor.invalid>");
  gpgPublicKey = join(scratch, "skopeo-signer.asc");
  await writeFile(gpgPublicKey, await gpgExportPublicKey({ homedir: gpgHome }, fingerprint));
  const signed = await skopeoSignedCopy(["--sign-by", fingerprint], { GNUPGHOME: gpgHome });
  await stopGpgAgents({ homedir: gpgHome });
  if (signed.code !== 0) throw new Error(`skopeo --sign-by failed: ${signed.stderr}`);
  stack = await startLocalStack({ stateDir, port: 0, crawlIntervalMs: 0 });
});

afterAll(async () => {
  await stack?.stop();
  await registry?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe("GPG signatures made by skopeo --sign-by", () => {
  it("Should be staged by skopeo as lookaside files for the index and every platform manifest", async () => {
    for (const signed of await signedDigests(tree, digest)) {
      expect((await readFile(join(tree, lookasidePath({ repository: REPOSITORY, digest: signed, index: 1 })))).byteLength).toBeGreaterThan(0);
    }
  });

  it("Should be published by our publisher and served through the front door's lookaside by a mirror", async () => {
    const name = lookasidePath({ repository: REPOSITORY, digest, index: 1 });
    const response = await fetch(`${stack.url}/${name}`);
    expect(response.status).toBe(200);
    expect(response.url).not.toContain(stack.url);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(await readFile(join(tree, name)));
  });

  it("Should be accepted by our verifier, through the front door and straight from a mirror", async () => {
    const pin = await frontdoorCli(["pin", `${stack.registry}/${REPOSITORY}:latest`, "--gpg-key", gpgPublicKey]);
    expect(pin.code, pin.stderr).toBe(0);
    expect(pin.stdout).toBe(`${stack.registry}/${REPOSITORY}@${digest}\n`);
    const pulled = await pullClient(["--mirror", stack.mirrors[0]!.server.url, "--gpg-key", gpgPublicKey, `${REPOSITORY}:latest`, join(await mkdtemp(join(scratch, "pull-")), "out")]);
    expect(pulled.code, pulled.stderr).toBe(0);
  });

  it("Should be accepted by skopeo's own verification through the front door", async () => {
    const dir = await mkdtemp(join(scratch, "verify-"));
    const policy = join(dir, "policy.json");
    const signedIdentity = { type: "remapIdentity", prefix: stack.registry, signedPrefix: DEMO_IDENTITY };
    await writeFile(policy, JSON.stringify({ default: [{ type: "reject" }], transports: { docker: { [stack.registry]: [{ type: "signedBy", keyType: "GPGKeys", keyPath: gpgPublicKey, signedIdentity }] } } }));
    await mkdir(join(dir, "registries.d"));
    await writeFile(join(dir, "registries.d", "frontdoor.yaml"), ["docker:", `  ${stack.registry}:`, `    lookaside: ${stack.url}/signatures`, ""].join("\n"));
    const result = await skopeo(dir, ["--policy", policy, "--registries.d", join(dir, "registries.d"), "copy", "--remove-signatures", "--src-tls-verify=false", `docker://${stack.registry}/${REPOSITORY}:latest`, `oci:${join(dir, "image")}:latest`]);
    expect(result.code, result.stderr).toBe(0);
  });
});

describe("sigstore signatures by skopeo --sign-by-sigstore-private-key with a key from frontdoor keygen", () => {
  it("Should be accepted by our verifier from the reference registry, or refused by a skopeo built without sigstore", async () => {
    const prefix = join(scratch, "interop-key");
    await writeFile(join(scratch, "passphrase"), "interop\n");
    const keygen = await frontdoorCli(["keygen", "--output-prefix", prefix, "--passphrase-file", join(scratch, "passphrase")]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const signed = await skopeoSignedCopy(["--sign-by-sigstore-private-key", `${prefix}.private`, "--sign-passphrase-file", join(scratch, "passphrase")]);
    if (signed.code !== 0) {
      expect(signed.stderr).toContain(DEBIAN_REFUSAL);
      return;
    }
    const registrySource = new FrontDoorSource(`http://${registryHost}`);
    const verified = await resolveVerified(registrySource, { repository: REPOSITORY, tag: "latest", digest: null }, { sigstoreKey: readPublicKey(await readFile(`${prefix}.pub`, "utf8")) });
    expect(verified.signatures.map((signature) => signature.claim)).toContainEqual({ dockerReference: SIGNED_AS, manifestDigest: digest });
  });
});
