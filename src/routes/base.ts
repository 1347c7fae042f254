import { Hono } from "hono";
import type { AppEnv } from "../env";

/** `GET /v2/`: the API version check (Distribution Spec, "Determining support"). Mounted at the root. */
export const base = new Hono<AppEnv>().get("/v2/", (c) => {
  c.header("Content-Type", "application/json");
  return c.body("{}");
});
