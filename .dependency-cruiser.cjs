/**
 * The import boundaries of the layers (docs/architecture.md): routes -> domain -> store.
 * `npm run lint` checks them; CI runs it before the tests.
 */
const DOMAIN = "^src/(mirrors|crawl|render|publish|oci|http|stats)/";
const ROUTES = "^src/(routes/|app\\.ts$)";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-not-to-routes",
      comment: "Domain modules and the store are called by the routes; they never import src/routes or src/app.",
      severity: "error",
      from: { path: [DOMAIN, "^src/store/", "^src/(config|env|errors)\\.ts$"] },
      to: { path: ROUTES },
    },
    {
      name: "store-not-to-domain",
      comment: "src/store sits below the domain: besides itself it imports src/oci, and other modules' types only.",
      severity: "error",
      from: { path: "^src/store/" },
      to: { path: "^src/", pathNot: "^src/(store|oci)/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "nothing-imports-the-entry",
      comment: "src/index.ts is the worker's entry point; nothing in src/ imports it.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^src/index\\.ts$" },
    },
    {
      name: "src-not-to-scripts-or-tests",
      comment: "The worker never imports the CLIs (scripts/, bin/) or the tests.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(scripts|bin|test)/" },
    },
    {
      name: "src-not-to-node",
      comment: "The worker runs in workerd without nodejs_compat: no node: builtins.",
      severity: "error",
      from: { path: "^src/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "worker-tests-not-to-node",
      comment: "Tests in test/worker run inside workerd; only their global setup files (*.setup.ts) run in Node.",
      severity: "error",
      from: { path: "^test/worker/", pathNot: "\\.setup\\.ts$" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "runtime-not-to-dev-dependencies",
      comment: "The worker and the CLIs run without devDependencies: what they import is in dependencies.",
      severity: "error",
      from: { path: "^(src|bin|scripts)/" },
      to: { dependencyTypes: ["npm-dev"] },
    },
    {
      name: "resolvable",
      comment: "Every import resolves to a file or a package.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    // workerd's own modules (cloudflare:test, cloudflare:workers) are provided by the runtime.
    exclude: { path: "^cloudflare:" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
