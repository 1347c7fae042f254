/**
 * `npm start`: the front door on 127.0.0.1:8787 with demo content, an origin and three mirrors,
 * all on this machine. Ctrl-C stops everything it started and exits with code 130.
 */
import { constants } from "node:os";
import { parseDevClient } from "../src/mirrors/client";
import { startFaultControl, type FaultControl } from "./lib/stack/fault-control";
import { parseFaultAssignments } from "./lib/stack/faults";
import { BIG_DEMO_REF, DEMO_MIRRORS, startLocalStack, type LocalStack } from "./lib/stack/local-stack";
import { CrawlChanges } from "./lib/stack/crawl-changes";
import { DEFAULT_CLIENT_PLACE } from "./lib/stack/local-worker";
import { demoPolicy, demoRegistriesD, writeDemoPolicies } from "./lib/stack/demo-signing";

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

/** `FRONTDOOR_FAULTS`: the faults the local mirrors start with, `<mirror id>=<fault>[,...]`; checked here, so a bad value stops the start. */
function startFaults(value: string | undefined): ReturnType<typeof parseFaultAssignments> {
  try {
    return parseFaultAssignments(value, DEMO_MIRRORS.map((mirror) => mirror.id));
  } catch (error) {
    throw new Error(`FRONTDOOR_FAULTS: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function faultLines(stack: LocalStack, control: FaultControl): string[] {
  const [first] = stack.mirrors;
  return [
    `Mirror faults (loopback only): curl ${control.url}/ lists them;`,
    `  curl -X PUT --data cut-always ${control.url}/${first?.id ?? "<mirror id>"}   curl -X DELETE ${control.url}/${first?.id ?? "<mirror id>"}`,
    `  or start with FRONTDOOR_FAULTS='${first?.id ?? "<mirror id>"}=slow' npm start`,
  ];
}

/** How to make podman and skopeo require the demo image's signature (docs/signing.md). */
async function signingInstructions(stack: LocalStack): Promise<string[]> {
  const image = `${stack.registry}/demo/hello:latest`;
  const files = await writeDemoPolicies(stack.signing, stack.registry, stack.url);
  const indent = (text: string) => text.trimEnd().split("\n").map((line) => `    ${line}`);
  return [
    `demo/hello:latest is signed with the demo keys in ${stack.signing.dir}; the public key is at ${stack.url}/signing-key.pub.`,
    "A policy.json that requires the GPG (lookaside) signature:",
    ...indent(demoPolicy(stack.signing, stack.registry, "gpg")),
    `and the registries.d entry that finds the signatures (${files.registriesD}/frontdoor.yaml):`,
    ...indent(demoRegistriesD(stack.registry, stack.url)),
    "Pull requiring the signature:",
    `  skopeo --policy ${files.gpgPolicy} --registries.d ${files.registriesD} copy --remove-signatures --src-tls-verify=false docker://${image} oci:/tmp/hello-signed:latest`,
    `  HOME=${files.home} podman pull --signature-policy ${files.gpgPolicy} --tls-verify=false ${image}`,
    `For sigstore attachments use ${files.sigstorePolicy} (sigstoreSigned); Debian's podman and skopeo builds refuse that policy type.`,
    `Verified pin for docker and containerd: npm run frontdoor -- pin ${image} --key ${stack.signing.publicKey}`,
    `Verified pull straight from a mirror: npm run pull -- --mirror ${stack.mirrors[0]?.server.url ?? stack.origin.server.url} --key ${stack.signing.publicKey} demo/hello:latest /tmp/hello-mirror`,
  ];
}

function instructions(stack: LocalStack, vars: Record<string, string>, control: FaultControl, signing: string[]): string {
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
    `  podman pull --tls-verify=false ${stack.registry}/${BIG_DEMO_REF}   (layers of several MiB)`,
    "",
    ...signing,
    "",
    "Blobs are redirected (307) to these static servers of the tree:",
    ...stack.servers().map(({ id, server, dir }) => `  ${id.padEnd(8)} ${server.url}  (${dir})${server.fault.name === "none" ? "" : `  fault: ${server.fault.name}`}`),
    ...faultLines(stack, control),
    "",
    `Mirrors config: ${stack.mirrorsToml}   local KV: ${stack.persistDir}`,
    clientLine(vars),
    "Request log lines follow; the crawler (every 5 s) prints only what changed. Press Ctrl-C to stop.",
    "",
  ].join("\n");
}

/**
 * Ctrl-C (and SIGTERM, or the end of the parent process) exit at once with the shell's code for the signal, 130 after Ctrl-C: nothing
 * asynchronous can run after the signal, because Miniflare's own listener calls process.exit as soon
 * as the listeners before it return. The "exit" hooks then stop what can be stopped synchronously
 * (Miniflare kills workerd, processes.ts kills the process group of any child still running, such as
 * the bundler during startup), and the origin and mirror servers, which live in this process, end with it.
 */
function exitOnSignals(): void {
  const stop = (signal: NodeJS.Signals): void => {
    console.log(`\n${signal}: stopping the front door and the mirrors`);
    process.exit(128 + constants.signals[signal]);
  };
  // Added before the stack starts, so it runs before the listener Miniflare adds and decides the exit.
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // A signal to `npm start` alone may stop npm and its shell without reaching this process:
  // being handed to another parent means whoever started the stack is gone.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop("SIGHUP");
  }, 500).unref();
}

async function main(): Promise<void> {
  const vars = devClientVars(process.env.FRONTDOOR_DEV_CLIENT);
  const faults = startFaults(process.env.FRONTDOOR_FAULTS);
  exitOnSignals();
  const crawlChanges = new CrawlChanges();
  const stack = await startLocalStack({
    port: parsePort(process.env.PORT),
    vars,
    faults,
    progress: (message) => console.log(message),
    onWorkerLog: (line) => {
      const text = crawlChanges.line(line.json, line.message);
      if (text !== null) console.log(text);
    },
  });
  const control = await startFaultControl(new Map(stack.mirrors.map(({ id, server }) => [id, server])));
  console.log(instructions(stack, vars, control, await signingInstructions(stack)));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
