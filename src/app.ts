import { Hono } from "hono";
import type { AppEnv } from "./env";
import { errorResponse, RegistryError } from "./errors";
import type { Failover } from "./mirrors/failover";
import { API_VERSION, API_VERSION_HEADER } from "./http/headers";
import { requestLog, type LogSink } from "./http/request-log";
import { securityHeaders } from "./http/security-headers";
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
  const app = new Hono<AppEnv>();
  const root = options.root ?? new CompositionRoot();
  const failover = options.failover ?? root.failover;

  app.use(securityHeaders());
  app.use(async function attachServices(c, next) {
    const { settings, registry, mirrors, signatures, stats, statusCache } = root.servicesFor(c.env);
    c.set("settings", settings);
    c.set("registry", registry);
    c.set("mirrors", mirrors);
    c.set("signatures", signatures);
    c.set("stats", stats);
    c.set("statusCache", statusCache);
    c.set("failover", failover);
    await next();
  });
  app.use(requestLog(options.log));

  app.use("/v2/*", async function registryHeaders(c, next) {
    if (!READ_METHODS.has(c.req.method)) {
      throw new RegistryError("UNSUPPORTED", {
        message: "this registry is read-only",
        detail: { method: c.req.method },
        headers: { Allow: "GET, HEAD" },
      });
    }
    await next();
    c.header(API_VERSION_HEADER, API_VERSION);
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
