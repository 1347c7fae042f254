import type { Env } from "../env";
import { crawlSettingsFrom } from "./settings";
import { crawlOnce } from "./sweep";

/** The Cron Trigger handler (`[triggers] crons` in wrangler.toml): one crawler batch, one log line. */
export async function scheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const report = await crawlOnce(env.REGISTRY, crawlSettingsFrom(env));
  console.log(JSON.stringify({ crawl: controller.cron, ...report }));
}
