import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LAYOUT_FILES } from "../../../src/oci/layout";
import { decryptPrivateKey, publicKeyPem } from "../../../scripts/lib/signing/cosign-key";
import { PASSPHRASE_ENV } from "../../../scripts/lib/signing/key-files";
import { attachmentLayers, imageRefs } from "../../../scripts/lib/signing/sign-tree";
import { writeDemoTree } from "../../../scripts/lib/stack/demo-tree";
import { runCli, withTempDir } from "../publish/run-cli";

let dir: { path: string; remove: () => Promise<void> };

beforeEach(async () => {
  dir = await withTempDir();
});

afterEach(async () => {
  await dir.remove();
});

describe("frontdoor keygen", () => {
  it("Should write an encrypted private key (mode 0600) that opens with the passphrase, and its public key", async () => {
    const prefix = join(dir.path, "key");
    const result = await runCli(["keygen", "--output-prefix", prefix], { [PASSPHRASE_ENV]: "from the environment" });
    expect(result.code, result.stderr).toBe(0);
    expect((await stat(`${prefix}.private`)).mode & 0o777).toBe(0o600);
    const key = await decryptPrivateKey(await readFile(`${prefix}.private`, "utf8"), "from the environment");
    expect(publicKeyPem(key)).toBe(await readFile(`${prefix}.pub`, "utf8"));
  });

  it("Should read the passphrase from the first line of --passphrase-file", async () => {
    const prefix = join(dir.path, "key");
    await writeFile(join(dir.path, "pass"), "first line\nsecond line\n");
    expect((await runCli(["keygen", "--output-prefix", prefix, "--passphrase-file", join(dir.path, "pass")])).code).toBe(0);
    await expect(decryptPrivateKey(await readFile(`${prefix}.private`, "utf8"), "first line")).resolves.toBeDefined();
  });

  it("Should refuse to replace an existing key", async () => {
    const prefix = join(dir.path, "key");
    await writeFile(`${prefix}.private`, "keep me");
    const result = await runCli(["keygen", "--output-prefix", prefix], { [PASSPHRASE_ENV]: "" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not replacing a key");
    expect(await readFile(`${prefix}.private`, "utf8")).toBe("keep me");
  });

  it("Should refuse to run without a passphrase source, never prompting", async () => {
    const result = await runCli(["keygen", "--output-prefix", join(dir.path, "key")], { [PASSPHRASE_ENV]: undefined });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--passphrase-file");
  });
});

describe("frontdoor sign", () => {
  it("Should sign the tree's images with a keygen key and publish the key into the tree", async () => {
    const prefix = join(dir.path, "key");
    await runCli(["keygen", "--output-prefix", prefix], { [PASSPHRASE_ENV]: "p" });
    const tree = join(dir.path, "tree");
    await writeDemoTree(tree);
    const result = await runCli(["sign", tree, "--identity", "registry.example.org", "--sign-key", `${prefix}.private`], { [PASSPHRASE_ENV]: "p" });
    expect(result.code, result.stderr).toBe(0);
    const [ref] = await imageRefs(tree);
    expect(result.stdout).toContain(`registry.example.org/demo/hello:latest@${ref!.digest}: signed (sigstore)`);
    expect(await attachmentLayers(tree, "demo/hello", ref!.digest)).toHaveLength(1);
    expect(await readFile(join(tree, LAYOUT_FILES.signingKey), "utf8")).toBe(await readFile(`${prefix}.pub`, "utf8"));
  });

  it("Should refuse a wrong passphrase and leave the tree alone", async () => {
    const prefix = join(dir.path, "key");
    await runCli(["keygen", "--output-prefix", prefix], { [PASSPHRASE_ENV]: "right" });
    const tree = join(dir.path, "tree");
    await writeDemoTree(tree);
    const before = await readFile(join(tree, "index.json"), "utf8");
    const result = await runCli(["sign", tree, "--identity", "r.test", "--sign-key", `${prefix}.private`], { [PASSPHRASE_ENV]: "wrong" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("PASSPHRASE_WRONG");
    expect(await readFile(join(tree, "index.json"), "utf8")).toBe(before);
  });

  it("Should ask for --identity when signing", async () => {
    const tree = join(dir.path, "tree");
    await writeDemoTree(tree);
    const result = await runCli(["sign", tree, "--gpg-key", "nobody"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--identity");
  });
});

describe("frontdoor pin", () => {
  it("Should ask for a key", async () => {
    const result = await runCli(["pin", "127.0.0.1:8787/demo/hello:latest"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--key");
  });
});
