import { isRepositoryName, isTag } from "../../../src/oci/reference";

/** One image to copy into the tree. */
export interface ImportSource {
  /** `<registry>/<repository>:<tag>`, as skopeo's `docker://` transport takes it. */
  source: string;
  /** `host[:port]` of the source registry. */
  registry: string;
  /** The repository in the source registry. */
  repository: string;
  tag: string;
  /** The repository the tree names it under: the source's unless the list gives another. */
  treeRepository: string;
}

export class ImportListError extends Error {
  override name = "ImportListError";
}

/**
 * `host[:port]` as the Distribution reference grammar has it: dot-separated
 * components of letters, digits and inner hyphens, or a bracketed IPv6
 * address, and a port of digits; anything else (`docker:`, `u:p@host`,
 * `.`, a port past 65535) is no registry.
 */
const REGISTRY_HOST = /^((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::(\d{1,5}))?$/;

/**
 * A registry host is the first path component when it looks like one: it holds a dot or a port,
 * or is `localhost` (the rule docker and containers/image apply to image names).
 */
function isRegistryHost(component: string): boolean {
  const match = REGISTRY_HOST.exec(component);
  if (match === null) return false;
  const [, host, port] = match as unknown as [string, string, string | undefined];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) return false;
  return host === "localhost" || host.startsWith("[") || host.includes(".") || port !== undefined;
}

/**
 * Reads `<registry>/<repository>:<tag>` and an optional second word, the repository to name
 * it under in the tree. The registry must be named (`docker.io/library/alpine:3.20`, not
 * `alpine`) and the tag given: the tree's ref names are `<repository>:<tag>`.
 */
export function parseImportSource(input: string, rename?: string): ImportSource {
  const slash = input.indexOf("/");
  const registry = slash < 0 ? "" : input.slice(0, slash);
  if (!isRegistryHost(registry)) throw new ImportListError(`${JSON.stringify(input)} names no registry: write <registry>/<repository>:<tag>, e.g. docker.io/library/alpine:3.20`);
  const path = input.slice(slash + 1);
  if (path.includes("@")) throw new ImportListError(`${JSON.stringify(input)}: give a tag, not a digest; the tree names each image <repository>:<tag>`);
  const colon = path.lastIndexOf(":");
  if (colon < 0) throw new ImportListError(`${JSON.stringify(input)} has no tag: write <registry>/<repository>:<tag>`);
  const repository = path.slice(0, colon);
  const tag = path.slice(colon + 1);
  if (!isRepositoryName(repository)) throw new ImportListError(`${JSON.stringify(input)}: ${JSON.stringify(repository)} is not a valid repository name`);
  if (!isTag(tag)) throw new ImportListError(`${JSON.stringify(input)}: ${JSON.stringify(tag)} is not a valid tag`);
  const treeRepository = rename ?? repository;
  if (!isRepositoryName(treeRepository)) throw new ImportListError(`${JSON.stringify(input)}: ${JSON.stringify(treeRepository)} is not a valid repository name for the tree`);
  return { source: input, registry, repository, tag, treeRepository };
}

/**
 * Reads an import list: one image a line, `<registry>/<repository>:<tag> [<tree repository>]`;
 * blank lines and `#` comments are skipped. Every bad line is reported, with its number.
 */
export function parseImportList(text: string, file: string): ImportSource[] {
  const sources: ImportSource[] = [];
  const problems: string[] = [];
  const named = new Map<string, number>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const words = line.split(/\s+/);
    try {
      if (words.length > 2) throw new ImportListError(`expected <registry>/<repository>:<tag> [<tree repository>], got ${words.length} words`);
      const source = parseImportSource(words[0]!, words[1]);
      const refName = `${source.treeRepository}:${source.tag}`;
      const first = named.get(refName);
      if (first !== undefined) throw new ImportListError(`${refName} is already named on line ${first}`);
      named.set(refName, i + 1);
      sources.push(source);
    } catch (error) {
      if (!(error instanceof ImportListError)) throw error;
      problems.push(`${file}:${i + 1}: ${error.message}`);
    }
  }
  if (problems.length === 0 && sources.length === 0) problems.push(`${file}: names no image`);
  if (problems.length > 0) throw new ImportListError(problems.join("\n"));
  return sources;
}
