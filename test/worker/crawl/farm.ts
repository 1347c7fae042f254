import { inject } from "vitest";
import type { FakeBlob, FakeMirrorBehaviour, FarmRequest } from "./mirror-farm.setup";
import type { TestBlob } from "./world";

/** Registers a fake mirror on the Node-side farm and returns its base URL. */
export async function fakeMirror(behaviour: FakeMirrorBehaviour): Promise<string> {
  const baseUrl = `${inject("mirrorFarm")}/m/${crypto.randomUUID()}`;
  await changeMirror(baseUrl, behaviour);
  return baseUrl;
}

/** Replaces what an already registered fake mirror answers, e.g. to stop or update it. */
export async function changeMirror(baseUrl: string, behaviour: FakeMirrorBehaviour): Promise<void> {
  const response = await fetch(baseUrl.replace("/m/", "/_farm/"), { method: "PUT", body: JSON.stringify(behaviour) });
  if (response.status !== 204) throw new Error(`the mirror farm answered ${response.status}`);
}

/** Every request the fake mirror received, oldest first. */
export async function requestsTo(baseUrl: string): Promise<FarmRequest[]> {
  return (await fetch(baseUrl.replace("/m/", "/_farm/"))).json();
}

/** The marker body the publisher writes for `generation`. */
export function markerBody(generation: number): string {
  return JSON.stringify({ generation, published: "2026-11-27T12:00:00Z" });
}

/** The farm's entries for `blobs`, each served faithfully unless `faults` says otherwise. */
export function servedBlobs(blobs: readonly TestBlob[], faults: Omit<FakeBlob, "seed" | "size"> = {}): Record<string, FakeBlob> {
  return Object.fromEntries(blobs.map(({ digest, size, seed }) => [digest, { seed, size, ...faults }]));
}

/** A mirror holding `generation` of the tree: its marker and every given blob, byte for byte. */
export function servingGeneration(generation: number, blobs: readonly TestBlob[]): FakeMirrorBehaviour {
  return { marker: { body: markerBody(generation) }, blobs: servedBlobs(blobs) };
}
