import { Hono } from "hono";
import type { AppEnv } from "../env";
import { registryAnswer } from "../http/registry-answer";

/** `GET /v2/`: the API version check (Distribution Spec, "Determining support"). Mounted at the root. */
export const base = new Hono<AppEnv>().get("/v2/", () => registryAnswer("{}", { "Content-Type": "application/json" }));
