import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { NO_TRANSFORM } from "../http/headers";
import { blobUrl } from "../oci/layout";
import { parseLookasideName } from "../signing/lookaside";
import { downloadLocations, duplicateLinks, instanceDigest } from "../render/redirect";
import { readTogether } from "../store/read-together";
import { chooseMirrors } from "./mirror-answers";

/** Signature files are opaque OpenPGP messages to the client. */
const SIGNATURE_MEDIA_TYPE = "application/octet-stream";

/**
 * `GET /signatures/<repository>@<alg>=<hex>/signature-<n>`: the lookaside
 * store that containers/image reads for simple-signing (GPG) signatures
 * (`lookaside:` in registries.d). Answered like a blob: a 307 to a mirror's
 * content-addressed copy of the file, which cannot be stale the way a mutable
 * path can; 404 for a missing number, which is how the client learns there
 * are no more. The path is checked against the OCI grammars before any KV read.
 */
export const signatures = new Hono<AppEnv>().get("/signatures/:name{.+}", async (c) => {
  const entry = parseLookasideName(c.req.param("name"));
  if (entry === null) throw new RegistryError("NOT_FOUND", { message: "not a lookaside signature path", detail: { path: new URL(c.req.url).pathname } });
  const { repository, digest, index } = entry;
  c.set("logDigest", digest);
  const inputs = c.req.method === "GET" ? c.get("mirrors").selectionInputs() : undefined;
  const [record] = await readTogether([c.get("signatures").lookaside(repository, digest, index), inputs]);
  if (record === null) throw new RegistryError("NOT_FOUND", { message: "no such signature", detail: { name: repository, digest, signature: index } });
  if (c.req.method === "HEAD") {
    c.header("Content-Type", SIGNATURE_MEDIA_TYPE);
    c.header("Content-Length", String(record.size));
    c.header("Cache-Control", NO_TRANSFORM);
    c.header("ETag", `"${record.digest}"`);
    return c.body(null, 200);
  }
  const chosen = await chooseMirrors(c, { repository, digest: record.digest, size: record.size, generation: record.generation }, inputs);
  c.header("Cache-Control", "private, no-store");
  for (const link of duplicateLinks(downloadLocations(chosen, record.digest), c.get("settings").mirrorListCap)) c.header("Link", link, { append: true });
  c.header("Digest", instanceDigest(record.digest));
  return c.redirect(blobUrl(chosen[0].baseUrl, record.digest), 307);
});
