import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { isRepositoryName } from "../oci/reference";
import { pageParams } from "./params";

/** `GET /v2/_catalog?n=&last=`: every published repository, paginated like tags. */
export const catalog = new Hono<AppEnv>().get("/_catalog", async (c) => {
  const page = pageParams(
    await c.get("registry").catalog(),
    c.req.query(),
    "/v2/_catalog",
    isRepositoryName,
    (last) => new RegistryError("NAME_INVALID", { message: "invalid repository name in last", detail: { last } }),
  );
  if (page.link !== null) c.header("Link", page.link);
  return c.json({ repositories: page.items });
});
