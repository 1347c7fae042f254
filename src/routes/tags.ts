import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { isTag } from "../oci/reference";
import { pageParams, repositoryParam } from "./params";

/** `GET /v2/<name>/tags/list?n=&last=` (Distribution Spec, "Listing Tags"). */
export const tags = new Hono<AppEnv>().get("/:name{.+}/tags/list", async (c) => {
  const repository = repositoryParam(c.req.param("name"));
  const all = await c.get("registry").tags(repository);
  if (all === null) throw new RegistryError("NAME_UNKNOWN", { detail: { name: repository } });
  const page = pageParams(
    all,
    c.req.query(),
    `/v2/${repository}/tags/list`,
    isTag,
    (last) => new RegistryError("TAG_INVALID", { message: "invalid tag in last", detail: { last } }),
  );
  if (page.link !== null) c.header("Link", page.link);
  return c.json({ name: repository, tags: page.items });
});
