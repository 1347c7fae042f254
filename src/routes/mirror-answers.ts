import type { Context } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { clientLocation } from "../mirrors/client";
import { selectMirrors, type ChosenMirror } from "../mirrors/select";
import { MEDIA_TYPES } from "../oci/media-types";
import type { Digest } from "../oci/reference";
import { renderMetalink } from "../render/metalink";
import { downloadLocations } from "../render/redirect";

/** A piece of published content that mirrors hold at `blobs/<alg>/<hex>`. */
export interface MirroredContent {
  repository: string;
  digest: Digest;
  size: number;
  generation: number;
  /** Set for manifests; carried in the metalink's extension element. */
  mediaType?: string;
}

/**
 * The mirrors that can serve `content` to this client, best first and the
 * origin last; MIRROR_UNAVAILABLE when there is none, never a redirect to nowhere.
 */
export async function chooseMirrors(c: Context<AppEnv>, content: MirroredContent): Promise<[ChosenMirror, ...ChosenMirror[]]> {
  const [table, crawl] = await Promise.all([c.var.mirrors.table(), c.var.mirrors.crawlState()]);
  const { chosen } = selectMirrors(table, crawl, {
    client: clientLocation(c.req.raw, c.var.settings),
    generation: content.generation,
    repository: content.repository,
    limit: c.var.settings.mirrorListCap,
  });
  const [best, ...rest] = chosen;
  if (best === undefined) throw new RegistryError("MIRROR_UNAVAILABLE", { detail: { digest: content.digest } });
  c.set("logMirror", best.id);
  return [best, ...rest];
}

/**
 * RFC 5854 answer listing the content's copies on `chosen`, with its
 * publication times. It carries no `Docker-Content-Digest`: that header names
 * the digest of the body, and this body is the XML, not the content.
 */
export async function metalinkAnswer(c: Context<AppEnv>, content: MirroredContent, chosen: readonly ChosenMirror[]): Promise<Response> {
  const [first, newest] = await Promise.all([c.var.registry.generation(content.generation), c.var.registry.publication()]);
  const document = renderMetalink({
    digest: content.digest,
    size: content.size,
    published: first?.published ?? null,
    updated: newest?.published ?? null,
    locations: downloadLocations(chosen, content.digest),
    ...(content.mediaType === undefined ? {} : { mediaType: content.mediaType }),
  });
  c.header("Content-Type", MEDIA_TYPES.metalink4);
  c.header("Content-Length", String(new TextEncoder().encode(document).byteLength));
  c.header("Cache-Control", "private, no-store");
  return c.body(document, 200);
}
