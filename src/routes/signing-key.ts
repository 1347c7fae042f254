import { Hono } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";

/**
 * `GET /signing-key.pub`: the PEM public key (SubjectPublicKeyInfo) that the
 * publication's sigstore signatures verify with, as the publisher stored it.
 * A convenience for setting up a policy: a key fetched over the same channel
 * as the images proves nothing by itself (docs/signing.md).
 */
export const signingKey = new Hono<AppEnv>().get("/signing-key.pub", async (c) => {
  const pem = await c.get("signatures").signingKey();
  if (pem === null) throw new RegistryError("NOT_FOUND", { message: "this registry publishes no signing key" });
  c.header("Content-Type", "application/x-pem-file");
  c.header("Cache-Control", "public, max-age=300");
  return c.body(pem);
});
