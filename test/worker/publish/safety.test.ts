import { describe, expect, it } from "vitest";
import { PublishError } from "../../../src/publish/errors";
import { checkDroppedSignatures, checkDroppedTags, checkKvLimits } from "../../../src/publish/safety";
import { keys, KV_LIMITS } from "../../../src/store/keys";
import type { PublicationWrites } from "../../../src/store/records";

function plan(overrides: Partial<PublicationWrites> = {}, tags = 1): PublicationWrites & { summary: { tags: number } } {
  return { content: [], pointers: [], deletions: { pointers: [], content: [] }, summary: { tags }, ...overrides };
}

const served = ["a", "b", "c", "d"].map((tag) => keys.tag("demo/hello", tag));

describe("checkKvLimits", () => {
  it("Should name a manifest over KV's value limit before anything is written", () => {
    const key = keys.manifest("demo/hello", `sha256:${"a".repeat(64)}`);
    const oversized = plan({ content: [{ key, value: new Uint8Array(KV_LIMITS.valueBytes + 1) }] });
    expect(() => checkKvLimits(oversized)).toThrow(PublishError);
    expect(() => checkKvLimits(oversized)).toThrow(`${key} is ${KV_LIMITS.valueBytes + 1} bytes (25.0 MiB), over KV's value limit of ${KV_LIMITS.valueBytes} bytes (25.0 MiB)`);
  });

  it("Should refuse a key over 512 bytes and metadata over 1024 bytes", () => {
    expect(() => checkKvLimits(plan({ pointers: [{ key: `tag:${"a".repeat(600)}`, value: "x" }] }))).toThrow(/is 604 bytes, over KV's limit of 512/);
    expect(() => checkKvLimits(plan({ pointers: [{ key: "tag:a:b", value: "x", metadata: { pad: "x".repeat(1100) } }] }))).toThrow(/of metadata, over KV's limit of 1024/);
  });

  it("Should pass writes at the limits", () => {
    expect(() => checkKvLimits(plan({ content: [{ key: "k".repeat(KV_LIMITS.keyBytes), value: new Uint8Array(KV_LIMITS.valueBytes) }] }))).not.toThrow();
  });
});

describe("checkDroppedTags", () => {
  it("Should allow dropping up to half of the served tags", () => {
    expect(() => checkDroppedTags(plan({ deletions: { pointers: served.slice(0, 2), content: [] } }, 2), served, { allowDrop: false })).not.toThrow();
  });

  it("Should refuse dropping more than half, or every tag, unless allowed", () => {
    const most = plan({ deletions: { pointers: served.slice(0, 3), content: [] } }, 1);
    expect(() => checkDroppedTags(most, served, { allowDrop: false })).toThrow(/stop serving 3 of the 4 image tags/);
    expect(() => checkDroppedTags(plan({ deletions: { pointers: served, content: [] } }, 0), served, { allowDrop: false })).toThrow(/4 of the 4/);
    expect(() => checkDroppedTags(most, served, { allowDrop: true })).not.toThrow();
  });

  it("Should count image tags only, so a tree that kept its signature tags but lost its images' is refused", () => {
    const hex = "ab".repeat(32);
    const attachments = [`sha256-${hex}.sig`, `sha256-${hex}.att`, `sha256-${hex}`].map((tag) => keys.tag("demo/hello", tag));
    const images = [keys.tag("demo/hello", "latest"), keys.tag("demo/big", "latest")];
    const lostImages = plan({ deletions: { pointers: images, content: [] } }, 3);
    expect(() => checkDroppedTags(lostImages, [...images, ...attachments], { allowDrop: false })).toThrow(/stop serving 2 of the 2 image tags/);
    const lostAttachments = plan({ deletions: { pointers: attachments, content: [] } }, 2);
    expect(() => checkDroppedTags(lostAttachments, [...images, ...attachments], { allowDrop: false })).not.toThrow();
  });

  it("Should refuse a tree with no refs even on an empty namespace", () => {
    expect(() => checkDroppedTags(plan({}, 0), [], { allowDrop: false })).toThrow("index.json names no refs");
  });
});

describe("checkDroppedSignatures", () => {
  const digest = `sha256:${"cd".repeat(32)}` as const;
  const lookaside = [1, 2].map((index) => keys.signature("demo/hello", digest, index));
  const attachments = [".sig", ".att"].map((suffix) => keys.tag("demo/hello", `sha256-${"cd".repeat(32)}${suffix}`));
  const servedNow = [...served, ...lookaside, ...attachments];

  it("Should refuse losing every lookaside signature while the attachment tags stay, and the other way round, unless allowed", () => {
    const lostLookaside = plan({ deletions: { pointers: [], content: lookaside } });
    expect(() => checkDroppedSignatures(lostLookaside, servedNow, { allowDrop: false })).toThrow(/stop serving 2 of the 2 lookaside signatures/);
    const lostAttachments = plan({ deletions: { pointers: attachments, content: [] } });
    expect(() => checkDroppedSignatures(lostAttachments, servedNow, { allowDrop: false })).toThrow(/stop serving 2 of the 2 attachment tags/);
    expect(() => checkDroppedSignatures(lostLookaside, servedNow, { allowDrop: true })).not.toThrow();
  });

  it("Should allow losing up to half of each kind, and anything when none are served", () => {
    expect(() => checkDroppedSignatures(plan({ deletions: { pointers: attachments.slice(0, 1), content: lookaside.slice(0, 1) } }), servedNow, { allowDrop: false })).not.toThrow();
    expect(() => checkDroppedSignatures(plan({ deletions: { pointers: served, content: [] } }), served, { allowDrop: false })).not.toThrow();
  });
});
