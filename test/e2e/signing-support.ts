import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { Digest } from "../../src/oci/reference";
import { podman, skopeo } from "../../scripts/lib/process/daemons";
import { runCommand, type CommandResult } from "../../scripts/lib/process/processes";
import { decryptPrivateKey, generateKeyPair } from "../../scripts/lib/signing/cosign-key";
import { gpgGenerateKey, gpgSign, stopGpgAgents } from "../../scripts/lib/signing/gpg";
import { loadSigningKey } from "../../scripts/lib/signing/key-files";
import { encodePayload } from "../../scripts/lib/signing/payload";
import { addLookasideSignature, attachSigstoreSignature, imageRefs, signedDigests, signTree } from "../../scripts/lib/signing/sign-tree";
import { signPayload } from "../../scripts/lib/signing/sigstore-signature";
import { DEMO_IDENTITY, demoPolicy, demoRegistriesD, ensureDemoKeys } from "../../scripts/lib/stack/demo-signing";
import { writeDemoTree } from "../../scripts/lib/stack/demo-tree";
import { startLocalStack, type LocalStack } from "../../scripts/lib/stack/local-stack";
import { restoreEverywhere } from "./support";

/** The images of the signing stack: one per way a signature can be right or wrong. */
export const IMAGES = {
  /** Signed by the demo keys in both forms, by the stack itself. */
  signed: "demo/hello:latest",
  /** Also signed by the demo keys, as another tag of the same repository. */
  otherTag: "demo/hello:old",
  unsigned: "demo/unsigned:latest",
  /** Signed in both forms by keys the policy does not name. */
  otherKey: "demo/otherkey:latest",
  /** Signed by the demo keys, but every payload names the digest of demo/hello:latest. */
  wrongDigest: "demo/wrongdigest:latest",
} as const;

export interface SigningContext {
  stack: LocalStack;
  scratch: string;
  /** Digest each image ref of the tree points at, by `<repository>:<tag>`. */
  digests: Map<string, Digest>;
  files: { gpgPolicy: string; sigstorePolicy: string; registriesD: string; home: string };
  /** `127.0.0.1:<port>/<ref>` */
  image(ref: string): string;
}

async function otherKeys(dir: string) {
  const pair = await generateKeyPair("", { N: 1024, r: 8, p: 1 });
  const gpgHome = join(dir, "g");
  const fingerprint = await gpgGenerateKey(gpgHome, "Someone else <other@frontdoor.invalid>");
  return { sigstoreKey: await decryptPrivateKey(pair.privateKey, ""), gpg: { keyId: fingerprint, homedir: gpgHome } };
}

/**
 * Builds the tree before the stack starts: the demo image (which the stack
 * signs), another signed tag of it, and one image each unsigned, signed by
 * other keys, and signed for another digest.
 */
async function prepareTree(stateDir: string, scratch: string): Promise<void> {
  const tree = join(stateDir, "tree");
  await writeDemoTree(tree);
  await writeDemoTree(tree, { tag: "old", message: "an older build" });
  await writeDemoTree(tree, { repository: "demo/unsigned", message: "nobody signed this" });
  await writeDemoTree(tree, { repository: "demo/otherkey", message: "signed by someone else" });
  await writeDemoTree(tree, { repository: "demo/wrongdigest", message: "its signature names another image" });
  const keys = await ensureDemoKeys(stateDir);
  const demoKey = await loadSigningKey(keys.privateKey, (await readFile(keys.passphraseFile, "utf8")).split("\n")[0]!);
  const demoGpg = { keyId: keys.gpgFingerprint, homedir: keys.gpgHome };
  await signTree(tree, { registry: DEMO_IDENTITY, sigstoreKey: demoKey, gpg: demoGpg, only: new Set([IMAGES.otherTag]), publishKey: false });
  await signTree(tree, { registry: DEMO_IDENTITY, ...(await otherKeys(join(scratch, "other"))), only: new Set([IMAGES.otherKey]), publishKey: false });
  const refs = new Map((await imageRefs(tree)).map((ref) => [`${ref.repository}:${ref.tag}`, ref.digest]));
  const named = refs.get(IMAGES.signed)!;
  for (const digest of await signedDigests(tree, refs.get(IMAGES.wrongDigest)!)) {
    const claim = { dockerReference: `${DEMO_IDENTITY}/${IMAGES.wrongDigest}`, manifestDigest: named };
    const payload = encodePayload("sigstore", claim);
    await attachSigstoreSignature(tree, "demo/wrongdigest", digest, payload, signPayload(demoKey, payload));
    await addLookasideSignature(tree, "demo/wrongdigest", digest, await gpgSign(encodePayload("gpg", claim), demoGpg.keyId, demoGpg));
  }
  await stopGpgAgents(demoGpg);
}

/** Starts the signing stack for one test file: started before the first test, stopped after the last, tampering undone after each. */
export function useSigningStack(): () => SigningContext {
  let context: SigningContext | undefined;
  beforeAll(async () => {
    const scratch = await mkdtemp(join(tmpdir(), "fd-sig-e2e-"));
    try {
      const stateDir = join(scratch, "state");
      await prepareTree(stateDir, scratch);
      const stack = await startLocalStack({ stateDir, port: 0, crawlIntervalMs: 0 });
      const digests = new Map((await imageRefs(stack.tree)).map((ref) => [`${ref.repository}:${ref.tag}`, ref.digest]));
      const home = join(scratch, "home");
      const registriesD = join(home, ".config", "containers", "registries.d");
      await mkdir(registriesD, { recursive: true });
      await writeFile(join(registriesD, "frontdoor.yaml"), demoRegistriesD(stack.registry, stack.url));
      const gpgPolicy = join(scratch, "policy-gpg.json");
      const sigstorePolicy = join(scratch, "policy-sigstore.json");
      await writeFile(gpgPolicy, demoPolicy(stack.signing, stack.registry, "gpg"));
      await writeFile(sigstorePolicy, demoPolicy(stack.signing, stack.registry, "sigstore"));
      context = { stack, scratch, digests, files: { gpgPolicy, sigstorePolicy, registriesD, home }, image: (ref) => `${stack.registry}/${ref}` };
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      throw error;
    }
  });
  afterAll(async () => {
    if (context === undefined) return;
    await context.stack.stop();
    await rm(context.scratch, { recursive: true, force: true });
  });
  beforeEach(() => context?.stack.clearLogs());
  afterEach(() => context && restoreEverywhere(context.stack));
  return () => {
    if (context === undefined) throw new Error("the signing stack is not started");
    return context;
  };
}

/** skopeo copy with a policy: the policy decides before any layer is copied. */
export async function skopeoWithPolicy(context: SigningContext, policy: string, ref: string): Promise<CommandResult> {
  const dir = await mkdtemp(join(context.scratch, "skopeo-"));
  return skopeo(dir, [
    "--policy", policy,
    "--registries.d", context.files.registriesD,
    "copy", "--remove-signatures", "--src-tls-verify=false",
    `docker://${context.image(ref)}`, `oci:${join(dir, "image")}:latest`,
  ]);
}

/** podman pull with a policy, into fresh storage; registries.d comes from HOME. */
export async function podmanWithPolicy(context: SigningContext, policy: string, ref: string): Promise<CommandResult> {
  const dir = await mkdtemp(join(context.scratch, "podman-"));
  return podman(dir, ["pull", "--signature-policy", policy, "--tls-verify=false", context.image(ref)], undefined, { HOME: context.files.home });
}

/** Runs the reference pull client as `npm run pull` does. */
export function pullClient(args: readonly string[]): Promise<CommandResult> {
  return runCommand(join(process.cwd(), "node_modules/.bin/tsx"), ["scripts/pull.ts", ...args], { timeoutMs: 120_000 });
}

/** Runs the publisher CLI. */
export function frontdoorCli(args: readonly string[]): Promise<CommandResult> {
  return runCommand(join(process.cwd(), "node_modules/.bin/tsx"), ["scripts/frontdoor.ts", ...args], { timeoutMs: 120_000 });
}

/** Fetches the sigstore attachment of `digest` from the tree: its manifest and payload digests. */
export async function attachmentOf(tree: string, repository: string, digest: Digest): Promise<{ manifest: Digest; payloads: Digest[] }> {
  const index = JSON.parse(await readFile(join(tree, "index.json"), "utf8")) as { manifests: Array<{ digest: Digest; annotations?: Record<string, string> }> };
  const name = `${repository}:${digest.replace(":", "-")}.sig`;
  const entry = index.manifests.find((candidate) => candidate.annotations?.["org.opencontainers.image.ref.name"] === name);
  if (entry === undefined) throw new Error(`no attachment ${name}`);
  const manifest = JSON.parse(await readFile(join(tree, "blobs", "sha256", entry.digest.slice(7)), "utf8")) as { layers: Array<{ digest: Digest }> };
  return { manifest: entry.digest, payloads: manifest.layers.map((layer) => layer.digest) };
}
