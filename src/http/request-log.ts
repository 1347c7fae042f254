import type { MiddlewareHandler } from "hono";
import type { RequestLogMode } from "../config";
import type { AppEnv } from "../env";

/** Where log lines go; the runtime's console by default, a test's list when it passes one. */
export type LogSink = (line: string) => void;

/**
 * Longest text field of a log line, in characters; longer ones (a client's
 * path can be kilobytes) are cut and end in "…". With five such fields a
 * line stays far below Workers' 64 KB limit on one log message, even with
 * every character escaped.
 */
export const MAX_LOG_FIELD_LENGTH = 1024;

function bounded(value: string | null): string | null {
  return value === null || value.length <= MAX_LOG_FIELD_LENGTH ? value : `${value.slice(0, MAX_LOG_FIELD_LENGTH)}…`;
}

/** Whether a request answered with `status` gets a line under `mode`. */
export function isLogged(mode: RequestLogMode, status: number): boolean {
  return mode === "all" || (mode === "errors" && status >= 500);
}

/**
 * One JSON line per request that `REQUEST_LOG` selects: route, status,
 * digest, mirror chosen and duration. Client addresses, credentials and
 * query strings are left out. Runs after the services are attached, whose
 * settings name the mode.
 */
export function requestLog(sink: LogSink = (line) => console.log(line)): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = Date.now();
    await next();
    if (!isLogged(c.var.settings.requestLog, c.res.status)) return;
    sink(
      JSON.stringify({
        method: bounded(c.req.method),
        route: bounded(c.req.routePath),
        path: bounded(c.req.path),
        status: c.res.status,
        digest: bounded(c.var.logDigest ?? null),
        mirror: bounded(c.var.logMirror ?? null),
        durationMs: Date.now() - started,
      }),
    );
  };
}
