import { buildApp } from "./app";
import { scheduledHandler } from "./crawl/scheduled";
import type { Env } from "./env";
import { CompositionRoot } from "./services";

/** One composition root per isolate, so requests and crawls share its settings, stores and cache. */
const root = new CompositionRoot();
const app = buildApp({ root });

export default {
  fetch: app.fetch,
  scheduled: scheduledHandler(root),
} satisfies ExportedHandler<Env>;
