import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Env } from "../../../src/env";
import worker from "../../../src/index";
import type { CrawlState, MirrorHealth } from "../../../src/mirrors/types";
import type { Digest } from "../../../src/oci/reference";
import { generationEntry, publicationEntry, putEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";
import type { Publication } from "../../../src/store/records";

/** Stores publication `generation` with its sample, and makes it the newest. */
export async function publishGeneration(generation: number, sample: Array<{ digest: Digest; size: number }>): Promise<Publication> {
  const publication: Publication = { generation, published: `2026-11-27T1${generation % 10}:00:00Z`, sample };
  await putEntry(env.REGISTRY, generationEntry(publication));
  await putEntry(env.REGISTRY, publicationEntry(publication));
  return publication;
}

/** A digest that is well formed and names nothing real. */
export function fakeDigest(seed: string): Digest {
  return `sha256:${seed.repeat(64).slice(0, 64)}`;
}

/** Runs the worker's Cron Trigger handler once, with extra variables over the test bindings. */
export async function runCrawler(variables: Partial<Env> = {}): Promise<void> {
  const context = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "* * * * *" }), { ...(env as unknown as Env), ...variables }, context);
  await waitOnExecutionContext(context);
}

export async function crawlState(): Promise<CrawlState> {
  return (await env.REGISTRY.get<CrawlState>(keys.crawlState(), "json")) ?? {};
}

export async function healthOf(id: string): Promise<MirrorHealth | undefined> {
  return (await crawlState())[id];
}
