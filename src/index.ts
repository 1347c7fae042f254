import { buildApp } from "./app";
import { scheduledHandler } from "./crawl/scheduled";
import type { Env } from "./env";
import { errorResponse, RegistryError } from "./errors";
import { checkRequestLimits } from "./http/request-limits";
import { CompositionRoot } from "./services";

/** One composition root per isolate, so requests and crawls share its settings, stores and cache. */
const root = new CompositionRoot();
const app = buildApp({ root });

export default {
  /** Requests beyond the limits are answered before routing, whose cost grows with the path. */
  fetch(request, env, ctx) {
    const violation = checkRequestLimits(request);
    if (violation !== null) return errorResponse(new RegistryError(violation.code, { detail: violation.detail }), request.method);
    return app.fetch(request, env, ctx);
  },
  scheduled: scheduledHandler(root),
} satisfies ExportedHandler<Env>;
