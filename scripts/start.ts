/**
 * `npm start`: the front door on 127.0.0.1:8787 with demo content, an origin and three mirrors,
 * all on this machine. Ctrl-C stops everything it started.
 */
import { parseDevClient } from "../src/mirrors/client";
import { startLocalStack, type LocalStack } from "./lib/local-stack";
import { DEFAULT_CLIENT_PLACE } from "./lib/local-worker";

function parsePort(value: string | undefined): number {
  if (value === undefined || value === "") return 8787;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got ${JSON.stringify(value)}`);
  return port;
}

/**
 * `FRONTDOOR_DEV_CLIENT`: where the local worker takes every client to be, passed on as its
 * `DEV_CLIENT_LOCATION` (docs/selection.md). Checked here, so a bad value stops the start.
 */
function devClientVars(value: string | undefined): Record<string, string> {
  if (value === undefined || value.trim() === "") return {};
  try {
    parseDevClient(value);
  } catch (error) {
    throw new Error(`FRONTDOOR_DEV_CLIENT: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { DEV_CLIENT_LOCATION: value };
}

function clientLine(vars: Record<string, string>): string {
  const pretended = vars.DEV_CLIENT_LOCATION;
  return pretended === undefined
    ? `Clients are in ${DEFAULT_CLIENT_PLACE.city}; pretend otherwise with FRONTDOOR_DEV_CLIENT='{"country":"JP","continent":"AS"}' npm start, or per request with curl -H 'X-Frontdoor-Client-Country: US'.`
    : `Clients are taken to be at ${pretended} (FRONTDOOR_DEV_CLIENT); curl -H 'X-Frontdoor-Client-Country: US' overrides it per request.`;
}

function instructions(stack: LocalStack, vars: Record<string, string>): string {
  const image = `${stack.registry}/demo/hello:latest`;
  return [
    "",
    `registry-frontdoor is running at ${stack.url}`,
    "",
    "Try:",
    `  curl -i ${stack.url}/v2/`,
    `  curl -s ${stack.url}/v2/demo/hello/tags/list`,
    `  skopeo inspect --tls-verify=false docker://${image}`,
    `  skopeo copy --all --src-tls-verify=false docker://${image} oci:/tmp/hello:latest`,
    `  podman pull --tls-verify=false ${image}`,
    "",
    "Blobs are redirected (307) to these static servers of the tree:",
    ...stack.servers().map(({ id, server, dir }) => `  ${id.padEnd(8)} ${server.url}  (${dir})`),
    "",
    `Mirrors config: ${stack.mirrorsToml}   local KV: ${stack.persistDir}`,
    clientLine(vars),
    "Request log lines follow. Press Ctrl-C to stop.",
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const vars = devClientVars(process.env.FRONTDOOR_DEV_CLIENT);
  const stack = await startLocalStack({
    port: parsePort(process.env.PORT),
    vars,
    progress: (message) => console.log(message),
    onWorkerLog: (line) => console.log(line.message),
  });
  console.log(instructions(stack, vars));

  // Miniflare's own SIGINT/SIGTERM hook stops workerd and exits the process, which also closes the
  // in-process mirrors; prepending makes this notice print before that happens.
  const stop = (signal: NodeJS.Signals): void => {
    console.log(`\n${signal}: stopping the front door and the mirrors`);
    void stack.stop().then(() => process.exit(0));
  };
  process.prependOnceListener("SIGINT", stop);
  process.prependOnceListener("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
