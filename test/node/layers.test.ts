import { mkdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { cruise, type IConfiguration, type ICruiseResult } from "dependency-cruiser";
import { describe, expect, it } from "vitest";
import { PROJECT, withTempDir } from "./publish/run-cli";

const config = createRequire(import.meta.url)(join(PROJECT, ".dependency-cruiser.cjs")) as IConfiguration;

/** Runs the project's import rules over `roots` under `baseDir`; returns each violation as `rule: from -> to` (builtins without `node:`). */
async function violations(baseDir: string, roots: string[]): Promise<string[]> {
  const { tsConfig: _tsConfig, ...options } = config.options ?? {};
  const result = await cruise(roots, { ...options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden ?? [] } });
  const { summary } = result.output as ICruiseResult;
  return summary.violations.map((violation) => `${violation.rule.name}: ${violation.from} -> ${violation.to}`).sort();
}

/** Writes `files` (path -> source) under `root`. */
async function plant(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), source);
  }
}

describe("npm run lint: the import boundaries", () => {
  it("Should find no violation in the project", async () => {
    expect(await violations(PROJECT, ["src", "scripts", "bin", "test"])).toEqual([]);
  });

  it("Should report every planted violation and nothing that is allowed", async () => {
    const dir = await withTempDir();
    try {
      await plant(dir.path, {
        "src/routes/blobs.ts": `import { pickMirror } from "../mirrors/select";\nimport { keys } from "../store/keys";\nexport const blobs = [pickMirror, keys];\n`,
        "src/mirrors/select.ts": `import { blobs } from "../routes/blobs";\nimport { readFile } from "node:fs/promises";\nexport const pickMirror = [blobs, readFile];\n`,
        "src/mirrors/types.ts": `export interface MirrorTable { version: string }\n`,
        "src/crawl/sweep.ts": `export const sweep = 1;\n`,
        "src/oci/layout.ts": `export const BLOBS = "blobs";\n`,
        "src/store/keys.ts":
          `import { BLOBS } from "../oci/layout";\nimport type { MirrorTable } from "../mirrors/types";\nimport { sweep } from "../crawl/sweep";\n` +
          `export const keys = [BLOBS, sweep] as unknown as MirrorTable;\n`,
        "src/publish/plan.ts": `import { formatBytes } from "../../scripts/lib/format";\nexport const plan = formatBytes;\n`,
        "scripts/lib/format.ts": `import { keys } from "../../src/store/keys";\nexport const formatBytes = keys;\n`,
        "test/worker/a.test.ts": `import { join } from "node:path";\nexport const a = join;\n`,
        "test/worker/farm.setup.ts": `import { createServer } from "node:http";\nexport const farm = createServer;\n`,
      });
      expect(await violations(dir.path, ["src", "scripts", "test"])).toEqual([
        "domain-not-to-routes: src/mirrors/select.ts -> src/routes/blobs.ts",
        "src-not-to-node: src/mirrors/select.ts -> fs/promises",
        "src-not-to-scripts-or-tests: src/publish/plan.ts -> scripts/lib/format.ts",
        "store-not-to-domain: src/store/keys.ts -> src/crawl/sweep.ts",
        "worker-tests-not-to-node: test/worker/a.test.ts -> path",
      ]);
    } finally {
      await dir.remove();
    }
  });
});
