import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";

/**
 * One JSON line per request: route, status, digest, mirror chosen and
 * duration. Client addresses, credentials and query strings are left out.
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  return async function requestLog(c, next) {
    const started = Date.now();
    await next();
    console.log(
      JSON.stringify({
        method: c.req.method,
        route: c.req.routePath,
        path: new URL(c.req.url).pathname,
        status: c.res.status,
        digest: c.var.logDigest ?? null,
        mirror: c.var.logMirror ?? null,
        durationMs: Date.now() - started,
      }),
    );
  };
}
