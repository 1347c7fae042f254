import { z } from "zod";
import { SET_NAME_PATTERN, WHOLE_TREE_SET, type ContentSet, type PlatformPattern } from "../../../src/publish/content-sets";
import { isRepositoryName } from "../../../src/oci/reference";
import { keyLine, MirrorConfigError, parseTomlFile, type ConfigIssue, type LineOf } from "./mirrors-config";

/** A sets file that cannot be loaded; its message lists every problem as `<file>:<line>: <message>`. */
export class SetsConfigError extends MirrorConfigError {
  constructor(file: string, issues: ConfigIssue[]) {
    super(file, issues);
    this.name = "SetsConfigError";
  }
}

const PLATFORM = /^([a-z0-9_-]+)\/([a-z0-9_-]+)(?:\/([a-z0-9_-]+))?$/;

const repositoryPattern = z.string().refine((pattern) => {
  if (pattern === "*") return true;
  const name = pattern.endsWith("/*") ? pattern.slice(0, -2) : pattern;
  return isRepositoryName(name);
}, "must be a repository name, a prefix ending in \"/*\", or \"*\"");

const platform = z.string().transform((text, context): PlatformPattern => {
  const match = PLATFORM.exec(text);
  if (match === null) {
    context.addIssue({ code: "custom", message: `${JSON.stringify(text)} is not os/architecture or os/architecture/variant, such as linux/amd64` });
    return z.NEVER;
  }
  return { os: match[1]!, architecture: match[2]!, ...(match[3] === undefined ? {} : { variant: match[3] }) };
});

const setSchema = z.strictObject({
  name: z
    .string()
    .regex(SET_NAME_PATTERN, "must be 1 to 63 lower-case letters, digits, '.', '_' or '-'")
    .refine((name) => name !== WHOLE_TREE_SET, `"${WHOLE_TREE_SET}" is the whole tree and always defined`),
  repositories: z.array(repositoryPattern).min(1, "must name at least one repository pattern"),
  platforms: z.array(platform).default([]),
});

const fileSchema = z
  .strictObject({ set: z.array(setSchema).default([]) })
  .superRefine((file, context) => {
    const seen = new Set<string>();
    file.set.forEach((set, i) => {
      if (seen.has(set.name)) context.addIssue({ code: "custom", message: `set name ${JSON.stringify(set.name)} is used twice`, path: ["set", i, "name"] });
      seen.add(set.name);
    });
  });

/** The line of a schema path: the `[[set]]` headers are found once per file. */
function issueLines(lines: string[]): LineOf {
  const headers: number[] = [];
  lines.forEach((line, i) => {
    if (/^\s*\[\[\s*set\s*\]\]/.test(line)) headers.push(i + 1);
  });
  return ([table, index, key]) => {
    if (table !== "set" || typeof index !== "number") return null;
    const header = headers[index];
    if (header === undefined) return null;
    return typeof key === "string" ? keyLine(lines, header, key) : header;
  };
}

/**
 * Parses and validates a content-sets file (TOML, `[[set]]` tables with
 * `name`, `repositories` and optional `platforms`; docs/content-sets.md).
 * Throws SetsConfigError naming each bad line.
 */
export function parseSetsConfig(text: string, file = "sets.toml"): ContentSet[] {
  const data = parseTomlFile(text, fileSchema, issueLines, (issues) => new SetsConfigError(file, issues));
  return data.set.map((set) => ({ name: set.name, repositories: set.repositories, platforms: set.platforms }));
}
