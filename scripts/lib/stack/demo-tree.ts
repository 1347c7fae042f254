import { buildBigDemoLayout, buildDemoLayout, type BigDemoImageOptions, type DemoImageOptions } from "../../../src/publish/demo-image";
import type { MemoryLayout } from "../../../src/publish/layout";
import { LAYOUT_FILES, REF_NAME_ANNOTATION } from "../../../src/oci/layout";
import { FsLayout } from "../publish/fs-layout";

interface IndexDocument {
  schemaVersion: number;
  mediaType?: string;
  manifests: Array<{ annotations?: Record<string, string> }>;
}

/** The ref names (`<repository>:<tag>`) a tree's `index.json` holds; empty when it has none yet. */
export async function treeRefNames(treeDir: string): Promise<string[]> {
  const bytes = await new FsLayout(treeDir).readFile(LAYOUT_FILES.index);
  if (bytes === null) return [];
  const index = JSON.parse(new TextDecoder().decode(bytes)) as IndexDocument;
  return (index.manifests ?? []).flatMap((entry) => entry.annotations?.[REF_NAME_ANNOTATION] ?? []);
}

/**
 * Writes the demo image into a tree as `skopeo copy ... oci:<tree>:<repository>:<tag>`
 * would: blobs first, then `index.json` with any entry of the same ref name
 * replaced and every other entry kept. Returns the ref name written.
 */
export async function writeDemoTree(treeDir: string, options: DemoImageOptions = {}): Promise<string> {
  return writeLayoutIntoTree(treeDir, await buildDemoLayout(options));
}

/** Writes the big demo image (`demo/big:latest` unless told otherwise) into a tree, as `writeDemoTree` does. */
export async function writeBigDemoTree(treeDir: string, options: BigDemoImageOptions = {}): Promise<string> {
  return writeLayoutIntoTree(treeDir, await buildBigDemoLayout(options));
}

/** Adds the one ref of `demo`, an image layout, to the tree at `treeDir`. */
async function writeLayoutIntoTree(treeDir: string, demo: MemoryLayout): Promise<string> {
  const tree = new FsLayout(treeDir);
  const demoIndex = JSON.parse(new TextDecoder().decode((await demo.readFile(LAYOUT_FILES.index))!)) as IndexDocument;
  const refName = demoIndex.manifests[0]!.annotations![REF_NAME_ANNOTATION]!;

  const existingBytes = await tree.readFile(LAYOUT_FILES.index);
  let index = demoIndex;
  if (existingBytes !== null) {
    const existing = JSON.parse(new TextDecoder().decode(existingBytes)) as IndexDocument;
    if (!Array.isArray(existing.manifests)) throw new Error(`${tree.path(LAYOUT_FILES.index)} has no "manifests" array`);
    const kept = existing.manifests.filter((entry) => entry.annotations?.[REF_NAME_ANNOTATION] !== refName);
    index = { ...existing, manifests: [...kept, ...demoIndex.manifests] };
  }

  for (const [path, content] of demo.files()) {
    if (path.startsWith("blobs/") && (await tree.readFile(path)) === null) await tree.writeFileAtomic(path, content);
  }
  if ((await tree.readFile(LAYOUT_FILES.ociLayout)) === null) await tree.writeFileAtomic(LAYOUT_FILES.ociLayout, (await demo.readFile(LAYOUT_FILES.ociLayout))!);
  await tree.writeFileAtomic(LAYOUT_FILES.index, JSON.stringify(index));
  return refName;
}
