import { buildApp } from "./app";
import { scheduled } from "./crawl/scheduled";
import type { Env } from "./env";
import { errorResponse, RegistryError } from "./errors";
import { checkRequestLimits } from "./http/request-limits";

const app = buildApp();

export default {
  /** Requests beyond the limits are answered before routing, whose cost grows with the path. */
  fetch(request, env, ctx) {
    const violation = checkRequestLimits(request);
    if (violation !== null) return errorResponse(new RegistryError(violation.code, { detail: violation.detail }), request.method);
    return app.fetch(request, env, ctx);
  },
  scheduled,
} satisfies ExportedHandler<Env>;
