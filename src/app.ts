import { Hono } from "hono";
import { settingsFrom } from "./config";
import type { AppEnv } from "./env";
import { errorResponse, RegistryError } from "./errors";
import { API_VERSION, API_VERSION_HEADER } from "./http/headers";
import { requestLog } from "./http/request-log";
import { base } from "./routes/base";
import { blobs } from "./routes/blobs";
import { catalog } from "./routes/catalog";
import { debug } from "./routes/debug";
import { manifests } from "./routes/manifests";
import { referrers } from "./routes/referrers";
import { signatures } from "./routes/signatures";
import { signingKey } from "./routes/signing-key";
import { status } from "./routes/status";
import { tags } from "./routes/tags";
import { MirrorStore } from "./store/mirror-store";
import { RegistryStore } from "./store/registry-store";
import { SignatureStore } from "./store/signature-store";

/** The read-only registry allows these methods; the rest answer UNSUPPORTED. */
const READ_METHODS = new Set(["GET", "HEAD"]);

function toRegistryError(error: unknown): RegistryError {
  if (error instanceof RegistryError) return error;
  console.error(JSON.stringify({ error: error instanceof Error ? error.stack ?? error.message : String(error) }));
  return new RegistryError("UNKNOWN");
}

export function buildApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(requestLog());
  app.use(async function attachServices(c, next) {
    c.set("settings", settingsFrom(c.env));
    c.set("registry", new RegistryStore(c.env.REGISTRY));
    c.set("mirrors", new MirrorStore(c.env.REGISTRY));
    c.set("signatures", new SignatureStore(c.env.REGISTRY));
    await next();
  });

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

  app.notFound((c) => errorResponse(new RegistryError("NOT_FOUND", { detail: { path: new URL(c.req.url).pathname } }), c.req.method));
  app.onError((error, c) => errorResponse(toRegistryError(error), c.req.method));
  return app;
}
