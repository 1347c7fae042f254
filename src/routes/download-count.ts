import type { Context } from "hono";
import type { AppEnv } from "../env";
import { requestClient } from "./client";
import { rangeFirstByte } from "../http/range";
import type { ChosenMirror } from "../mirrors/select";

/**
 * Counts one blob redirect for the download statistics (docs/operations.md):
 * the mirror it sends the client to, the client's country, and the bytes the
 * client will fetch there (the blob's size, less what a `Range` resume
 * skips). The set is null until content sets exist. Never fails the request.
 */
export function countRedirect(c: Context<AppEnv>, target: ChosenMirror, size: number): void {
  try {
    const first = rangeFirstByte(c.req.header("Range"), size) ?? 0;
    const { country } = requestClient(c);
    c.get("stats").record({ mirror: target.id, country, set: null, bytes: Math.max(0, size - first) });
  } catch (error) {
    console.error(JSON.stringify({ downloadStats: "record failed", error: error instanceof Error ? error.message : String(error) }));
  }
}
