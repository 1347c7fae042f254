import { Hono, type Context } from "hono";
import { PatternRouter } from "hono/router/pattern-router";
import type { RequestLogMode } from "./config";
import type { AppEnv } from "./env";
import { errorResponse, RegistryError } from "./errors";
import type { Failover } from "./mirrors/failover";
import { API_VERSION, API_VERSION_HEADER } from "./http/headers";
import { isLogged, requestLogLine, type LogSink } from "./http/request-log";
import { isBuiltWhole } from "./http/registry-answer";
import { addSecurityHeaders } from "./http/security-headers";
import { base } from "./routes/base";
import { blobs } from "./routes/blobs";
import { catalog } from "./routes/catalog";
import { debug } from "./routes/debug";
import { manifests } from "./routes/manifests";
import { mirrorlist } from "./routes/mirrorlist";
import { referrers } from "./routes/referrers";
import { signatures } from "./routes/signatures";
import { signingKey } from "./routes/signing-key";
import { status } from "./routes/status";
import { tags } from "./routes/tags";
import { CompositionRoot } from "./services";

/** The read-only registry allows these methods; the rest answer UNSUPPORTED. */
const READ_METHODS = new Set(["GET", "HEAD"]);

/**
 * The security headers, and the API version header for the registry API, set
 * on the answer in place, unless it was built with them; an answer with
 * immutable headers (a fetched one) is copied once.
 */
function addAnswerHeaders(c: Context<AppEnv>, registryApi: boolean): void {
  if (isBuiltWhole(c.res)) return;
  try {
    addSecurityHeaders(c.res.headers);
  } catch {
    c.res = new Response(c.res.body, c.res);
    addSecurityHeaders(c.res.headers);
  }
  if (registryApi) c.res.headers.set(API_VERSION_HEADER, API_VERSION);
}

function toRegistryError(error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  console.error(JSON.stringify({ error: error instanceof Error ? error.stack ?? error.message : String(error) }));
  return new RegistryError("UNKNOWN");
}

export interface AppOptions {
  /** Builds settings and stores from the bindings; a fresh one, with its own cache, by default. */
  root?: CompositionRoot;
  /** Where the request log goes; `console.log` by default. */
  log?: LogSink;
  /** The retry memory: the root's, shared by every app of the isolate, unless a test passes its own. */
  failover?: Failover;
}

export function buildApp(options: AppOptions = {}): Hono<AppEnv> {
  // The registry paths' `{.+}` names rule out the RegExpRouter; of the routers that take them, PatternRouter matches fastest.
  const app = new Hono<AppEnv>({ router: new PatternRouter() });
  const root = options.root ?? new CompositionRoot();
  const failover = options.failover ?? root.failover;

  const log = options.log ?? ((line: string) => console.log(line));

  /**
   * Everything every request needs, in one middleware: the services, the
   * read-only rule of the registry API, and on the answer, in place, the
   * security headers, the API version header under `/v2/` and the request log
   * line. Headers are set on the answer itself: Hono's `c.header` after the
   * handler would copy the whole Response.
   */
  app.use(async function everyRequest(c, next) {
    const started = Date.now();
    const registryApi = c.req.path.startsWith("/v2/") || c.req.path === "/v2";
    // Until the variables are read, only failures are logged: a bad variable is one.
    let logMode: RequestLogMode = "errors";
    try {
      const { settings, registry, mirrors, signatures, stats, statusCache } = root.servicesFor(c.env);
      logMode = settings.requestLog;
      c.set("settings", settings);
      c.set("registry", registry);
      c.set("mirrors", mirrors);
      c.set("signatures", signatures);
      c.set("stats", stats);
      c.set("statusCache", statusCache);
      c.set("failover", failover);
      if (registryApi && !READ_METHODS.has(c.req.method)) {
        throw new RegistryError("UNSUPPORTED", {
          message: "this registry is read-only",
          detail: { method: c.req.method },
          headers: { Allow: "GET, HEAD" },
        });
      }
      await next();
    } catch (error) {
      c.res = errorResponse(toRegistryError(error), c.req.method);
    }
    addAnswerHeaders(c, registryApi);
    if (isLogged(logMode, c.res.status)) {
      log(
        requestLogLine({
          method: c.req.method,
          route: c.req.routePath,
          path: c.req.path,
          status: c.res.status,
          digest: c.get("logDigest") ?? null,
          mirror: c.get("logMirror") ?? null,
          durationMs: Date.now() - started,
        }),
      );
    }
  });

  app.route("/", base);
  app.route("/v2", catalog);
  app.route("/v2", manifests);
  app.route("/v2", blobs);
  app.route("/v2", tags);
  app.route("/v2", referrers);
  app.route("/", signatures);
  app.route("/", signingKey);
  app.route("/", debug);
  app.route("/", status);
  app.route("/", mirrorlist);

  app.notFound((c) => errorResponse(new RegistryError("NOT_FOUND", { detail: { path: new URL(c.req.url).pathname } }), c.req.method));
  app.onError((error, c) => errorResponse(toRegistryError(error), c.req.method));
  return app;
}
