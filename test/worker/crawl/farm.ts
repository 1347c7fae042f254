import { inject } from "vitest";
import type { FakeMirrorBehaviour } from "./mirror-farm.setup";

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

/** The marker body the publisher writes for `generation`. */
export function markerBody(generation: number): string {
  return JSON.stringify({ generation, published: "2026-11-27T12:00:00Z" });
}

/** A mirror holding `generation` of the tree: its marker and every given blob at its true size. */
export function servingGeneration(generation: number, blobs: Array<{ digest: string; size: number }>): FakeMirrorBehaviour {
  return {
    marker: { body: markerBody(generation) },
    blobs: Object.fromEntries(blobs.map(({ digest, size }) => [digest, { contentLength: size }])),
  };
}
