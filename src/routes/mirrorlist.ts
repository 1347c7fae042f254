import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { requestClient } from "./client";
import { RegistryError } from "../errors";
import { prefersJson } from "../http/accept";
import { PER_CLIENT } from "../http/headers";
import { isTag, type Digest } from "../oci/reference";
import { buildMirrorList, renderMirrorListPage, type MirrorListSubject } from "../render/mirror-list";
import { findBlob, findManifest } from "./lookups";
import { selectFor } from "./mirror-answers";
import { digestParam, repositoryParam } from "./params";

/** What a `/mirrorlist/` path names, each part checked against its grammar. */
type ListTarget = { kind: "blob"; repository: string; digest: Digest } | { kind: "tag"; repository: string; tag: string } | { kind: "manifest"; repository: string; digest: Digest };

/**
 * Reads `<name>/blobs/<digest>`, `<name>@<digest>` or `<name>:<tag>`. A
 * repository name holds neither `:` nor `@`, so the last of them splits it.
 */
function parseTarget(path: string): ListTarget {
  const blob = /^(.+)\/blobs\/([^/]+)$/.exec(path);
  if (blob !== null) return { kind: "blob", repository: repositoryParam(blob[1]!), digest: digestParam(blob[2]!) };
  const at = path.lastIndexOf("@");
  if (at > 0) return { kind: "manifest", repository: repositoryParam(path.slice(0, at)), digest: digestParam(path.slice(at + 1)) };
  const colon = path.lastIndexOf(":");
  if (colon <= 0) throw new RegistryError("NAME_INVALID", { message: "expected <name>:<tag>, <name>@<digest> or <name>/blobs/<digest>", detail: { path } });
  const tag = path.slice(colon + 1);
  if (!isTag(tag)) throw new RegistryError("TAG_INVALID", { message: "invalid tag", detail: { tag } });
  return { kind: "tag", repository: repositoryParam(path.slice(0, colon)), tag };
}

/** `?format=json` or `html`; without it, `Accept` decides. */
function wantsJson(c: Context<AppEnv>): boolean {
  const format = c.req.query("format");
  if (format === undefined) return prefersJson(c.req.header("Accept"));
  if (format === "json" || format === "html") return format === "json";
  throw new RegistryError("NOT_FOUND", { message: "format must be json or html", detail: { format: format.slice(0, 16) } });
}

async function subjectOf(c: Context<AppEnv>, target: ListTarget): Promise<MirrorListSubject> {
  if (target.kind === "blob") {
    const blob = await findBlob(c.get("registry"), target.repository, target.digest);
    return { repository: target.repository, reference: `${target.repository}/blobs/${target.digest}`, digest: target.digest, generation: blob.generation };
  }
  const reference = target.kind === "tag" ? { kind: "tag" as const, tag: target.tag } : { kind: "digest" as const, digest: target.digest };
  const manifest = await findManifest(c.get("registry"), target.repository, reference);
  const name = target.kind === "tag" ? `${target.repository}:${target.tag}` : `${target.repository}@${target.digest}`;
  // A manifest is published with, or after, everything it names: its generation is the image's.
  return { repository: target.repository, reference: name, digest: manifest.digest, generation: manifest.generation };
}

/**
 * `GET /mirrorlist/<name>:<tag>`, `/mirrorlist/<name>@<digest>`,
 * `/mirrorlist/<name>/blobs/<digest>`: the public mirrors this client would
 * get for the content, ranked, with each one's tier and why, and the public
 * mirrors left out with their reason (docs/operations.md). HTML, or JSON for
 * `?format=json` or `Accept: application/json`. Answered in production too;
 * private mirrors are never named.
 */
export const mirrorlist = new Hono<AppEnv>().get("/mirrorlist/:path{.+}", async (c) => {
  const target = parseTarget(c.req.param("path"));
  const json = wantsJson(c);
  const subject = await subjectOf(c, target);
  const client = requestClient(c);
  const inputs = c.get("mirrors").selectionInputs();
  const selection = await selectFor(c, { repository: subject.repository, digest: subject.digest, size: 0, generation: subject.generation }, { inputs, client, explain: true });
  const [table] = await inputs;
  const report = buildMirrorList(table, selection, client, subject, new Date());
  c.header("Cache-Control", PER_CLIENT);
  c.header("Vary", "Accept");
  return json ? c.json(report) : c.html(renderMirrorListPage(report));
});
