import type { Context } from "hono";
import type { AppEnv } from "../env";
import { requestClient } from "./client";
import { RegistryError } from "../errors";
import { PER_CLIENT } from "../http/headers";
import { registryAnswer } from "../http/registry-answer";
import { utf8 } from "../http/utf8";
import { parseHostChoice, type ClientChoice } from "../mirrors/choice";
import { selectMirrors, type ChosenMirror, type ClientLocation, type Selection } from "../mirrors/select";
import { MEDIA_TYPES } from "../oci/media-types";
import type { Digest } from "../oci/reference";
import { renderMetalink } from "../render/metalink";
import { downloadLocations } from "../render/redirect";
import type { SelectionInputs } from "../store/mirror-store";
import { readTogether } from "../store/read-together";

/** A piece of published content that mirrors hold at `blobs/<alg>/<hex>`. */
export interface MirroredContent {
  repository: string;
  digest: Digest;
  size: number;
  generation: number;
  /** Set for manifests; carried in the metalink's extension element. */
  mediaType?: string;
  /** The content sets holding it (docs/content-sets.md), from its KV record. */
  sets?: readonly string[];
}

export interface SelectOptions {
  /** The mirror table and crawl state, when the caller started reading them early. */
  inputs?: Promise<SelectionInputs>;
  /** The client's location, when the caller already worked it out. */
  client?: ClientLocation;
  /** Also list the excluded mirrors with their reasons (debug view). */
  explain?: boolean;
}

/** The pin and avoid choice of the host name the client asked (docs/selection.md, "Pinning and avoiding mirrors"). */
export function clientChoice(c: Context<AppEnv>): ClientChoice {
  return parseHostChoice(c.req.header("Host") ?? new URL(c.req.url).host, c.get("settings").frontDoorHosts);
}

/** Mirror selection for this request and `content` (docs/selection.md). */
export async function selectFor(c: Context<AppEnv>, content: MirroredContent, options: SelectOptions = {}): Promise<Selection> {
  const [table, crawl, crawlVersion] = await (options.inputs ?? c.get("mirrors").selectionInputs());
  return selectMirrors(
    table,
    crawl,
    {
      client: options.client ?? requestClient(c),
      generation: content.generation,
      digest: content.digest,
      repository: content.repository,
      limit: c.get("settings").mirrorListCap,
      explain: options.explain ?? false,
      ...(content.sets === undefined ? {} : { sets: content.sets }),
      choice: clientChoice(c),
    },
    crawlVersion,
  );
}

/**
 * The mirrors that can serve `content` to this client, best first and the
 * origin last; MIRROR_UNAVAILABLE when there is none, never a redirect to nowhere.
 */
export async function chooseMirrors(
  c: Context<AppEnv>,
  content: MirroredContent,
  inputs?: Promise<SelectionInputs>,
): Promise<[ChosenMirror, ...ChosenMirror[]]> {
  const { chosen } = await selectFor(c, content, inputs === undefined ? {} : { inputs });
  const [best, ...rest] = chosen;
  if (best === undefined) throw new RegistryError("MIRROR_UNAVAILABLE", { detail: { digest: content.digest } });
  c.set("logMirror", best.id);
  return [best, ...rest];
}

/**
 * RFC 5854 answer listing the content's copies on the mirrors chosen for this
 * client, with its publication times, negotiated by `Accept`. It carries no `Docker-Content-Digest`:
 * that header names the digest of the body, and this body is the XML, not the content.
 */
export async function metalinkAnswer(c: Context<AppEnv>, content: MirroredContent, inputs?: Promise<SelectionInputs>): Promise<Response> {
  const [chosen, first, newest] = await readTogether([
    chooseMirrors(c, content, inputs),
    c.get("registry").generation(content.generation),
    c.get("registry").publication(),
  ]);
  const document = renderMetalink({
    digest: content.digest,
    size: content.size,
    published: first?.published ?? null,
    updated: newest?.published ?? null,
    locations: downloadLocations(chosen, content.digest),
    ...(content.mediaType === undefined ? {} : { mediaType: content.mediaType }),
  });
  const body = utf8(document);
  return registryAnswer(body, {
    "Content-Type": MEDIA_TYPES.metalink4,
    "Content-Length": String(body.byteLength),
    "Cache-Control": PER_CLIENT,
    Vary: "Accept",
  });
}
