import { parse, TomlError } from "smol-toml";
import { z } from "zod";
import { CONTINENT_CODES } from "../../../src/mirrors/continents";
import { AVOID_PREFIX } from "../../../src/mirrors/choice";
import { SET_NAME_PATTERN, WHOLE_TREE_SET } from "../../../src/oci/sets";
import { isCountryCode } from "../../../src/mirrors/countries";
import { parseCidr } from "../../../src/mirrors/ip";
import type { Mirror, MirrorAbout, MirrorTable, Origin } from "../../../src/mirrors/types";
import { DIGEST_ALGORITHM_NAMES } from "../../../src/oci/reference";
import { cidrProblem } from "./cidr";
import { CliError } from "../cli/error";

/** One problem in a mirrors file, with the 1-based line it was found on (null when it has no line). */
export interface ConfigIssue {
  line: number | null;
  message: string;
}

/** A mirrors file that cannot be loaded; its message lists every problem as `<file>:<line>: <message>`. */
export class MirrorConfigError extends CliError {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(issues.map((issue) => `${file}${issue.line === null ? "" : `:${issue.line}`}: ${issue.message}`).join("\n"));
    this.name = "MirrorConfigError";
  }
}

/** The selection code names the origin "origin", so no mirror may. */
const RESERVED_IDS = new Set(["origin"]);

/** A DNS name as a URL's host holds it (IDNs already in punycode): labels of 1 to 63 letters, digits and inner hyphens, 253 characters at most. */
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const UNSPECIFIED_HOSTS = new Set(["0.0.0.0", "[::]"]);

/**
 * What is wrong with a base URL's text or host that the URL parser would
 * silently repair or accept: spaces and control characters (dropped or
 * trimmed), a missing host (`http:///x` becomes `http://x`), empty or
 * oversized labels, port 0, the unspecified address. Null when nothing is.
 */
function hostProblem(text: string, url: URL): string | null {
  if (/[\s\u0000-\u001f\u007f]/.test(text)) return "must not contain spaces or control characters";
  if (!/^https?:\/\/[^/\\]/i.test(text)) return "must name a host right after the scheme's //";
  if (url.port === "0") return "must not use port 0";
  if (UNSPECIFIED_HOSTS.has(url.hostname)) return "must name a host, not the unspecified address";
  if (url.hostname.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(url.hostname)) return null;
  if (url.hostname.length > 253 || !url.hostname.split(".").every((label) => HOST_LABEL.test(label))) {
    return "must name a valid host: dot-separated labels of 1 to 63 letters, digits and inner hyphens";
  }
  return null;
}

/** An absolute http(s) URL without credentials, query or fragment; trailing slashes are dropped. */
export const baseUrl = z.string().transform((text, context) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    context.addIssue({ code: "custom", message: `${JSON.stringify(text)} is not an absolute URL` });
    return z.NEVER;
  }
  const problem =
    url.protocol !== "https:" && url.protocol !== "http:"
      ? "must use http or https"
      : url.username !== "" || url.password !== ""
        ? "must not carry credentials"
        : text.includes("?") || text.includes("#")
          ? "must not have a query or fragment"
          : hostProblem(text, url);
  if (problem !== null) {
    context.addIssue({ code: "custom", message: `${JSON.stringify(text)} ${problem}` });
    return z.NEVER;
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
});

const country = z
  .string()
  .transform((code) => code.toUpperCase())
  .refine(isCountryCode, "must be an ISO 3166-1 alpha-2 country code such as DE");

/** Bandwidth weights allowed: wide enough for any real ratio between mirrors, finite so scores stay finite. */
export const BANDWIDTH_RANGE = { min: 0.01, max: 1_000_000 } as const;

const netblock = z.string().superRefine((block, context) => {
  const problem = cidrProblem(block);
  if (problem !== null) context.addIssue({ code: "custom", message: `${JSON.stringify(block)} ${problem}` });
});

/** A web address shown to people: absolute http(s), no credentials. */
function isWebAddress(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}

/**
 * Text without control characters or the bidirectional controls that would
 * reorder what a page shows around it, as a page shows it on one line.
 */
const PRINTABLE = /^[^\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/u;
const EMAIL = /^[^\s@<>()",;]+@[^\s@<>()",;]+\.[^\s@<>()",;]+$/;

/**
 * Who runs a mirror and who sponsors it (mirrors.example.toml). Kept private
 * unless `public_contact` / `public_sponsor` say otherwise.
 */
const aboutFields = {
  contact: z
    .string()
    .max(254, "must be at most 254 characters")
    .regex(PRINTABLE, "must not hold control characters")
    .refine((text) => EMAIL.test(text) || isWebAddress(text), "must be an e-mail address or an http(s) URL")
    .optional(),
  sponsor: z.string().min(1).max(100, "must be at most 100 characters").regex(PRINTABLE, "must not hold control characters").optional(),
  sponsor_url: z.string().max(2048).refine(isWebAddress, "must be an absolute http(s) URL without credentials").optional(),
  public_contact: z.boolean().default(false),
  public_sponsor: z.boolean().default(false),
};

type AboutInput = z.output<z.ZodObject<typeof aboutFields>>;

function checkAbout(mirror: AboutInput, context: z.RefinementCtx): void {
  if (mirror.public_contact && mirror.contact === undefined) context.addIssue({ code: "custom", message: "public_contact needs a contact", path: ["public_contact"] });
  if (mirror.public_sponsor && mirror.sponsor === undefined) context.addIssue({ code: "custom", message: "public_sponsor needs a sponsor", path: ["public_sponsor"] });
  if (mirror.sponsor_url !== undefined && mirror.sponsor === undefined) context.addIssue({ code: "custom", message: "sponsor_url needs a sponsor", path: ["sponsor_url"] });
}

/** The table's `about` of a mirror, absent when the file names no contact and no sponsor. */
function aboutOf(mirror: AboutInput): { about?: MirrorAbout } {
  if (mirror.contact === undefined && mirror.sponsor === undefined) return {};
  return {
    about: {
      ...(mirror.contact === undefined ? {} : { contact: mirror.contact }),
      ...(mirror.sponsor === undefined ? {} : { sponsor: mirror.sponsor }),
      ...(mirror.sponsor_url === undefined ? {} : { sponsorUrl: mirror.sponsor_url }),
      publicContact: mirror.public_contact,
      publicSponsor: mirror.public_sponsor,
    },
  };
}

const mirrorSchema = z
  .strictObject({
    ...aboutFields,
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "must be 1 to 63 lower-case letters, digits, '.', '_' or '-'")
      .refine((id) => !RESERVED_IDS.has(id), "\"origin\" is reserved")
      .refine((id) => !id.startsWith(AVOID_PREFIX), `ids starting with "${AVOID_PREFIX}" are reserved: that host name label avoids a mirror`),
    base_url: baseUrl,
    country,
    continent: z.enum(CONTINENT_CODES, { message: `must be one of ${CONTINENT_CODES.join(", ")}` }),
    latitude: z.number().min(-90).max(90).optional(),
    longitude: z.number().min(-180).max(180).optional(),
    asns: z.array(z.number().int().min(1).max(4_294_967_295)).default([]),
    netblocks: z.array(netblock).default([]),
    bandwidth: z
      .number()
      .min(BANDWIDTH_RANGE.min, `must be at least ${BANDWIDTH_RANGE.min}`)
      .max(BANDWIDTH_RANGE.max, `must be at most ${BANDWIDTH_RANGE.max.toLocaleString("en")}`),
    private: z.boolean().default(false),
    enabled: z.boolean().default(true),
    sets: z
      .array(z.string().regex(SET_NAME_PATTERN, "must be a set name: 1 to 63 lower-case letters, digits, '.', '_' or '-'"))
      .min(1, `must name at least one set; leave it out for "${WHOLE_TREE_SET}", the whole tree`)
      .optional(),
    scope: z.enum(["country", "continent"], { message: "must be \"country\" or \"continent\"; leave it out for the world" }).optional(),
    other_countries: z.array(country).default([]),
  })
  .refine((mirror) => (mirror.latitude === undefined) === (mirror.longitude === undefined), {
    message: "latitude and longitude go together",
    path: ["latitude"],
  })
  .superRefine(checkAbout)
  .superRefine((mirror, context) => {
    if (!mirror.private) return;
    mirror.netblocks.forEach((block, i) => {
      if (parseCidr(block)?.length === 0) {
        context.addIssue({ code: "custom", message: `${JSON.stringify(block)} is every address: a private mirror serves only its own networks`, path: ["netblocks", i] });
      }
    });
  });

const fileSchema = z
  .strictObject({
    origin: z.strictObject({ base_url: baseUrl, country: country.optional() }).optional(),
    mirror: z.array(mirrorSchema).default([]),
  })
  .superRefine((file, context) => {
    if (file.origin === undefined && !file.mirror.some((mirror) => mirror.enabled)) {
      context.addIssue({
        code: "custom",
        message: "the file has no [origin] and no enabled [[mirror]]: loading it would leave no place to send any download",
        path: [],
      });
    }
    const seen = new Set<string>();
    const urls = new Map<string, string>(file.origin === undefined ? [] : [[file.origin.base_url, "the origin"]]);
    file.mirror.forEach((mirror, i) => {
      if (seen.has(mirror.id)) context.addIssue({ code: "custom", message: `mirror id ${JSON.stringify(mirror.id)} is used twice`, path: ["mirror", i, "id"] });
      seen.add(mirror.id);
      const other = urls.get(mirror.base_url);
      if (other !== undefined) context.addIssue({ code: "custom", message: `base_url ${JSON.stringify(mirror.base_url)} is already ${other}'s`, path: ["mirror", i, "base_url"] });
      else urls.set(mirror.base_url, `mirror ${JSON.stringify(mirror.id)}`);
    });
  });

/** 1-based lines of each `[[mirror]]` header and of the `[origin]` header. */
function tableLines(lines: string[]): { mirrors: number[]; origin: number | null } {
  const mirrors: number[] = [];
  let origin: number | null = null;
  lines.forEach((line, i) => {
    if (/^\s*\[\[\s*mirror\s*\]\]/.test(line)) mirrors.push(i + 1);
    else if (/^\s*\[\s*origin\s*\]/.test(line)) origin = i + 1;
  });
  return { mirrors, origin };
}

/** A key name matched literally: TOML keys may be quoted and hold any character. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The line of `key = ...` inside the table starting at `tableLine`, else the table's own line. */
export function keyLine(lines: string[], tableLine: number, key: string): number {
  const pattern = new RegExp(`^\\s*["']?${escapeRegExp(key)}["']?\\s*=`);
  for (let i = tableLine; i < lines.length && !/^\s*\[/.test(lines[i]!); i++) {
    if (pattern.test(lines[i]!)) return i + 1;
  }
  return tableLine;
}

/** Maps a zod issue's path back to the line of the file it concerns; the tables are found once per file. */
function issueLines(lines: string[]): LineOf {
  const tables = tableLines(lines);
  return (path) => issueLine(lines, tables, path);
}

function issueLine(lines: string[], tables: ReturnType<typeof tableLines>, path: PropertyKey[]): number | null {
  const [table, index, key] = path;
  if (table === "mirror" && typeof index === "number") {
    const header = tables.mirrors[index];
    if (header === undefined) return null;
    return typeof key === "string" ? keyLine(lines, header, key) : header;
  }
  if (table === "origin" && tables.origin !== null) return typeof index === "string" ? keyLine(lines, tables.origin, index) : tables.origin;
  if (typeof table === "string") {
    const pattern = new RegExp(`^\\s*(?:\\[\\[?\\s*)?["']?${escapeRegExp(table)}(?![\\w-])`);
    const top = lines.findIndex((line) => pattern.test(line));
    return top < 0 ? null : top + 1;
  }
  return null;
}

/** The line of the file a schema path concerns, or null. */
export type LineOf = (path: PropertyKey[]) => number | null;

/** Most problems one error lists: a file of thousands of bad tables is named by its first ones and a count. */
export const MAX_REPORTED_ISSUES = 100;

/**
 * Parses a TOML file and validates it with `schema`; a syntax error or any
 * schema issue is thrown by `fail` with every problem on its line, sorted by
 * line, the first MAX_REPORTED_ISSUES of them (`linesOf` indexes the file's
 * lines once and answers a schema path's line).
 */
export function parseTomlFile<T>(text: string, schema: z.ZodType<T>, linesOf: (lines: string[]) => LineOf, fail: (issues: ConfigIssue[]) => Error): T {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      const firstLine = error.message.split("\n")[0] ?? "";
      throw fail([{ line: error.line, message: `TOML syntax error: ${firstLine.replace(/^Invalid TOML document: /, "")}` }]);
    }
    throw error;
  }
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lineOf = linesOf(text.split(/\r?\n/));
  const issues = result.error.issues.map((issue) => ({
    // An unknown key's issue points at its table; the key itself is on a line of its own.
    line: lineOf(issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0]!] : issue.path),
    message: `${issue.path.length > 0 ? `${describePath(issue.path)}: ` : ""}${issue.message}`,
  }));
  issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  if (issues.length <= MAX_REPORTED_ISSUES) throw fail(issues);
  throw fail([...issues.slice(0, MAX_REPORTED_ISSUES), { line: null, message: `and ${issues.length - MAX_REPORTED_ISSUES} more problems after these` }]);
}

export function describePath(path: PropertyKey[]): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`)).join("");
}

/** The version of a table: a hash of its origin and mirrors, so the same content always has the same version. */
export async function contentVersion(value: Pick<MirrorTable, "origin" | "mirrors">): Promise<string> {
  const hash = await crypto.subtle.digest(DIGEST_ALGORITHM_NAMES.sha256.webCrypto, new TextEncoder().encode(JSON.stringify(value)));
  return Array.from(new Uint8Array(hash).subarray(0, 8), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Parses and validates a mirrors file (TOML; `mirrors.example.toml` documents
 * every field) into the table the front door reads from KV key `mirrors`,
 * versioned by a hash of its content. Throws MirrorConfigError naming each bad line.
 */
export async function parseMirrorConfig(text: string, file = "mirrors.toml"): Promise<MirrorTable> {
  const data = parseTomlFile(text, fileSchema, issueLines, (issues) => new MirrorConfigError(file, issues));

  const origin: Origin | null =
    data.origin === undefined
      ? null
      : { baseUrl: data.origin.base_url, ...(data.origin.country === undefined ? {} : { country: data.origin.country }) };
  const mirrors: Mirror[] = data.mirror.map((mirror) => ({
    id: mirror.id,
    baseUrl: mirror.base_url,
    country: mirror.country,
    continent: mirror.continent,
    ...(mirror.latitude === undefined ? {} : { latitude: mirror.latitude, longitude: mirror.longitude }),
    asns: mirror.asns,
    netblocks: mirror.netblocks,
    bandwidth: mirror.bandwidth,
    private: mirror.private,
    enabled: mirror.enabled,
    // Absent fields keep a whole-tree, world-wide mirror's record (and the table's version) as it was.
    ...(mirror.sets === undefined || (mirror.sets.length === 1 && mirror.sets[0] === WHOLE_TREE_SET) ? {} : { sets: [...new Set(mirror.sets)].sort() }),
    ...(mirror.scope === undefined ? {} : { scope: mirror.scope }),
    ...(mirror.other_countries.length === 0 ? {} : { otherCountries: [...new Set(mirror.other_countries)].sort() }),
    ...aboutOf(mirror),
  }));
  return { version: await contentVersion({ origin, mirrors }), origin, mirrors };
}
