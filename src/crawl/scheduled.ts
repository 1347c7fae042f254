import type { Env } from "../env";
import type { CompositionRoot } from "../services";
import { crawlOnce } from "./sweep";

/** The Cron Trigger handler (`[triggers] crons` in wrangler.toml): one crawler batch, one log line. */
export function scheduledHandler(root: CompositionRoot): ExportedHandlerScheduledHandler<Env> {
  return async function scheduled(controller, env) {
    const report = await crawlOnce(env.REGISTRY, root.crawlSettingsFor(env));
    console.log(JSON.stringify({ crawl: controller.cron, ...report }));
  };
}
