import { buildApp } from "./app";
import { scheduled } from "./crawl/scheduled";
import type { Env } from "./env";

const app = buildApp();

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
