import type { Context } from "hono";
import type { AppEnv } from "../env";
import { clientLocation } from "../mirrors/client";
import type { ClientLocation } from "../mirrors/select";

/** The client's location (`clientLocation`), worked out on the first ask of a request and kept for the rest of it. */
export function requestClient(c: Context<AppEnv>): ClientLocation {
  let client = c.get("client");
  if (client === undefined) {
    client = clientLocation(c.req.raw, c.get("settings"));
    c.set("client", client);
  }
  return client;
}
