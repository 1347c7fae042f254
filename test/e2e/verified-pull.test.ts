import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lookasidePath } from "../../src/signing/lookaside";
import { REF_NAME_ANNOTATION } from "../../src/oci/layout";
import { readDemoImage, tamperEverywhere } from "./support";
import { attachmentOf, frontdoorCli, IMAGES, pullClient, useSigningStack, type SigningContext } from "./signing-support";

const context = useSigningStack();

async function target(ctx: SigningContext): Promise<string> {
  return join(await mkdtemp(join(ctx.scratch, "pull-")), "layout");
}

function mirrorOf(ctx: SigningContext) {
  return ctx.stack.mirrors[0]!;
}

/** Every static server's access log entries, except those of `id`. */
function requestsElsewhere(ctx: SigningContext, id: string): number {
  return Object.entries(ctx.stack.accessLogs())
    .filter(([server]) => server !== id)
    .reduce((count, [, entries]) => count + entries.length, 0);
}

describe("npm run pull with --key, through the front door", () => {
  it("Should verify the signature and pull the image", async () => {
    const ctx = context();
    const result = await pullClient(["--key", ctx.stack.signing.publicKey, ctx.image(IMAGES.signed), await target(ctx)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(ctx.digests.get(IMAGES.signed));
    expect(result.stderr).toContain("signature ok: 127.0.0.1:8787/demo/hello:latest (sigstore)");
  });

  it.each([
    [IMAGES.unsigned, "has no sigstore attachment"],
    [IMAGES.otherKey, "not signed by the given key"],
    [IMAGES.wrongDigest, "but it signs"],
  ])("Should refuse %s and write nothing", async (ref, reason) => {
    const ctx = context();
    const dir = await target(ctx);
    const result = await pullClient(["--key", ctx.stack.signing.publicKey, ctx.image(ref), dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(reason);
    expect(await readdir(join(dir, ".."))).toEqual([]);
  });

  it("Should fetch no layer of an image whose signature fails", async () => {
    const ctx = context();
    await pullClient(["--key", ctx.stack.signing.publicKey, ctx.image(IMAGES.otherKey), await target(ctx)]);
    const layerRequests = ctx.stack.workerLog().filter((line) => typeof line.json?.path === "string" && /\/v2\/demo\/otherkey\/blobs\//.test(String(line.json.path)));
    // Only the attachment's payload blob is read through the front door, never a config or layer.
    const { payloads } = await attachmentOf(ctx.stack.tree, "demo/otherkey", ctx.digests.get(IMAGES.otherKey)!);
    for (const line of layerRequests) expect(payloads.some((payload) => String(line.json!.path).endsWith(payload))).toBe(true);
  });
});

describe("npm run pull --mirror, straight from one mirror", () => {
  it("Should resolve the tag from the mirror's index.json, verify, and fetch everything from that mirror alone (sigstore)", async () => {
    const ctx = context();
    const mirror = mirrorOf(ctx);
    const result = await pullClient(["--mirror", mirror.server.url, "--key", ctx.stack.signing.publicKey, IMAGES.signed, await target(ctx)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(ctx.digests.get(IMAGES.signed));
    expect(requestsElsewhere(ctx, mirror.id)).toBe(0);
    expect(ctx.stack.workerLog().filter((line) => line.json !== null && typeof line.json.path === "string")).toEqual([]);
  });

  it("Should accept the GPG form from the mirror's lookaside tree", async () => {
    const ctx = context();
    const result = await pullClient(["--mirror", mirrorOf(ctx).server.url, "--gpg-key", ctx.stack.signing.gpgPublicKey, IMAGES.signed, await target(ctx)]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("(gpg)");
  });

  it("Should refuse without a key", async () => {
    const ctx = context();
    const result = await pullClient(["--mirror", mirrorOf(ctx).server.url, IMAGES.signed, await target(ctx)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("needs a key");
  });

  it("Should refuse a mirror whose index.json points the tag at another image, even one signed by the same key", async () => {
    const ctx = context();
    const mirror = mirrorOf(ctx);
    const index = JSON.parse(await readFile(join(mirror.dir, "index.json"), "utf8")) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
    const old = index.manifests.find((entry) => entry.annotations[REF_NAME_ANNOTATION] === IMAGES.otherTag)!;
    const latest = index.manifests.find((entry) => entry.annotations[REF_NAME_ANNOTATION] === IMAGES.signed)!;
    Object.assign(latest, { digest: old.digest, size: (old as unknown as { size: number }).size });
    mirror.server.tamper("/index.json", new TextEncoder().encode(JSON.stringify(index)));
    for (const key of [["--key", ctx.stack.signing.publicKey], ["--gpg-key", ctx.stack.signing.gpgPublicKey]]) {
      const result = await pullClient(["--mirror", mirror.server.url, ...key, IMAGES.signed, await target(ctx)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("not the tag latest");
    }
  });

  it("Should refuse a tampered signature payload on the mirror", async () => {
    const ctx = context();
    const mirror = mirrorOf(ctx);
    const { payloads } = await attachmentOf(ctx.stack.tree, "demo/hello", ctx.digests.get(IMAGES.signed)!);
    const path = `/blobs/sha256/${payloads[0]!.slice(7)}`;
    const bytes = new TextEncoder().encode((await readFile(join(mirror.dir, path), "utf8")).replace("demo/hello:latest", "demo/hello:lat3st"));
    mirror.server.tamper(path, bytes);
    const result = await pullClient(["--mirror", mirror.server.url, "--key", ctx.stack.signing.publicKey, IMAGES.signed, await target(ctx)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/hash to|bytes, expected/);
  });

  it("Should refuse a tampered lookaside signature file on the mirror", async () => {
    const ctx = context();
    const mirror = mirrorOf(ctx);
    const path = `/${lookasidePath({ repository: "demo/hello", digest: ctx.digests.get(IMAGES.signed)!, index: 1 })}`;
    const bytes = new Uint8Array(await readFile(join(mirror.dir, path)));
    bytes[bytes.length - 8]! ^= 0xff;
    mirror.server.tamper(path, bytes);
    const result = await pullClient(["--mirror", mirror.server.url, "--gpg-key", ctx.stack.signing.gpgPublicKey, IMAGES.signed, await target(ctx)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("does not verify");
  });

  it("Should refuse a tampered layer on the mirror, after the signature checked out", async () => {
    const ctx = context();
    const mirror = mirrorOf(ctx);
    const demo = await readDemoImage(ctx.stack.tree);
    const layer = demo.amd64OwnLayer.digest;
    const path = `/blobs/sha256/${layer.slice(7)}`;
    const bytes = new Uint8Array(await readFile(join(mirror.dir, path)));
    bytes[0]! ^= 0xff;
    mirror.server.tamper(path, bytes);
    const result = await pullClient(["--mirror", mirror.server.url, "--key", ctx.stack.signing.publicKey, IMAGES.signed, await target(ctx)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("signature ok");
    expect(result.stderr).toContain(layer);
  });

  it("Should pull from an honest mirror while another one is hostile", async () => {
    const ctx = context();
    const [hostile, honest] = ctx.stack.mirrors;
    const layer = (await readDemoImage(ctx.stack.tree)).amd64OwnLayer.digest;
    hostile!.server.tamper(`/blobs/sha256/${layer.slice(7)}`, new Uint8Array(16));
    const refused = await pullClient(["--mirror", hostile!.server.url, "--key", ctx.stack.signing.publicKey, IMAGES.signed, await target(ctx)]);
    const pulled = await pullClient(["--mirror", honest!.server.url, "--key", ctx.stack.signing.publicKey, IMAGES.signed, await target(ctx)]);
    expect(refused.code).toBe(1);
    expect(pulled.code, pulled.stderr).toBe(0);
  });
});

describe("frontdoor pin", () => {
  it("Should print the verified digest reference, through the front door and through a mirror, in both forms", async () => {
    const ctx = context();
    const expected = `${ctx.stack.registry}/demo/hello@${ctx.digests.get(IMAGES.signed)}`;
    for (const args of [
      ["--key", ctx.stack.signing.publicKey],
      ["--gpg-key", ctx.stack.signing.gpgPublicKey],
      ["--key", ctx.stack.signing.publicKey, "--mirror", mirrorOf(ctx).server.url],
    ]) {
      const result = await frontdoorCli(["pin", ctx.image(IMAGES.signed), ...args]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`${expected}\n`);
    }
  });

  it("Should refuse with --identity naming another registry than the signature", async () => {
    const ctx = context();
    const result = await frontdoorCli(["pin", ctx.image(IMAGES.signed), "--key", ctx.stack.signing.publicKey, "--identity", "registry.example.org"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("not registry.example.org");
    expect(result.stdout).toBe("");
  });

  it.each([IMAGES.unsigned, IMAGES.otherKey, IMAGES.wrongDigest])("Should print nothing for %s", async (ref) => {
    const ctx = context();
    const result = await frontdoorCli(["pin", ctx.image(ref), "--key", ctx.stack.signing.publicKey]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
  });

  it("Should refuse a tampered payload through the front door, the mirrors all serving it", async () => {
    const ctx = context();
    const { payloads } = await attachmentOf(ctx.stack.tree, "demo/hello", ctx.digests.get(IMAGES.signed)!);
    await tamperEverywhere(ctx.stack, payloads[0]!);
    const result = await frontdoorCli(["pin", ctx.image(IMAGES.signed), "--key", ctx.stack.signing.publicKey]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("DIGEST_MISMATCH");
  });
});
