import { Hono } from "hono";
import type { AppEnv } from "../env";
import { MEDIA_TYPES } from "../oci/media-types";
import { digestParam, repositoryParam } from "./params";

/**
 * `GET /v2/<name>/referrers/<digest>?artifactType=` (Distribution Spec v1.1,
 * "Listing Referrers"): an image index of the manifests whose subject is the
 * digest, empty when there are none; the spec forbids a 404 here.
 */
export const referrers = new Hono<AppEnv>().get("/:name{.+}/referrers/:digest", async (c) => {
  const repository = repositoryParam(c.req.param("name"));
  const digest = digestParam(c.req.param("digest"));
  const artifactType = c.req.query("artifactType");
  let manifests = await c.get("registry").referrers(repository, digest);
  if (artifactType !== undefined) {
    manifests = manifests.filter((descriptor) => descriptor.artifactType === artifactType);
    c.header("OCI-Filters-Applied", "artifactType");
  }
  c.header("Content-Type", MEDIA_TYPES.ociIndex);
  return c.body(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
});
