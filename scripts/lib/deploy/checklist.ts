/** The namespace id wrangler.toml ships with; a deployment must name a real one. */
export const PLACEHOLDER_NAMESPACE_ID = "00000000000000000000000000000000";

/** One finding: an error stops the deployment, a warning is printed. */
export interface Finding {
  level: "error" | "warning";
  message: string;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * A wrangler environment's effective settings: `vars` and `kv_namespaces` are not inherited from the
 * top level (wrangler's "non-inheritable keys"), `triggers`, `routes`, `workers_dev` and
 * `observability` are unless the environment sets them.
 */
function effective(toml: Record<string, unknown>, environment: string): Record<string, unknown> {
  if (environment === "") return toml;
  const env = record(record(toml.env)[environment]);
  const inherited = Object.fromEntries(["triggers", "routes", "route", "workers_dev", "observability"].filter((key) => key in toml).map((key) => [key, toml[key]]));
  return { ...inherited, ...env };
}

/**
 * Checks a parsed wrangler.toml before `wrangler deploy`, for the environment `environment`
 * ("" is the top level, the production deployment). docs/deploying.md lists the same items.
 */
export function checkDeployment(toml: Record<string, unknown>, environment: string, configPath: string): Finding[] {
  const findings: Finding[] = [];
  const error = (message: string): void => void findings.push({ level: "error", message });
  const warning = (message: string): void => void findings.push({ level: "warning", message });
  const where = environment === "" ? configPath : `${configPath} [env.${environment}]`;

  if (environment !== "" && !(environment in record(toml.env))) error(`${configPath} has no [env.${environment}]`);
  const config = effective(toml, environment);

  const namespaces = Array.isArray(config.kv_namespaces) ? config.kv_namespaces.map(record) : [];
  const binding = namespaces.find((namespace) => namespace.binding === "REGISTRY");
  const id = binding?.id;
  if (binding === undefined) error(`${where}: no [[kv_namespaces]] entry with binding = "REGISTRY"`);
  else if (id === PLACEHOLDER_NAMESPACE_ID) {
    error(
      `${where}: the REGISTRY KV namespace id is still the placeholder ${PLACEHOLDER_NAMESPACE_ID}. ` +
        "Create the namespace with `npx wrangler kv namespace create REGISTRY` and put the id it prints into [[kv_namespaces]] id " +
        "(or give a configuration of your own with --config <wrangler.toml>).",
    );
  } else if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) error(`${where}: the REGISTRY KV namespace id ${JSON.stringify(id)} is not 32 hex digits, as Cloudflare's namespace ids are`);

  const vars = record(config.vars);
  const mode = vars.FRONTDOOR_ENV;
  if (mode !== undefined && mode !== "production") error(`${where}: FRONTDOOR_ENV is ${JSON.stringify(mode)}; a deployment runs "production" (or leaves it unset)`);
  if ("DEV_CLIENT_LOCATION" in vars) error(`${where}: DEV_CLIENT_LOCATION is a development setting; remove it from [vars] (put it into .dev.vars for \`npm run dev\`)`);

  const crons = record(config.triggers).crons;
  if (!Array.isArray(crons) || crons.length === 0) error(`${where}: no [triggers] crons: the mirror crawler would never run and every blob would go to the origin`);

  const routes = Array.isArray(config.routes) ? config.routes : config.route !== undefined ? [config.route] : [];
  if (routes.length === 0 && config.workers_dev !== true) {
    warning(`${where}: no routes and workers_dev is off, so the deployed worker answers no request; add routes = [{ pattern = "registry.example.org", custom_domain = true }]`);
  }
  if (record(config.observability).enabled !== true) warning(`${where}: [observability] enabled is off, so Workers Logs keeps no request log`);
  return findings;
}
