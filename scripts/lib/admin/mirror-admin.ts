import { classifyMirror, type MirrorStatus } from "../../../src/mirrors/mirror-state";
import type { CheckRecord, CrawlState, MirrorHealth, MirrorTable } from "../../../src/mirrors/types";
import { mirrorOverridesEntry, mirrorsEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";
import type { MirrorOverride, Publication } from "../../../src/store/records";
import { CliError } from "../cli/error";
import type { KvTarget } from "../kv/kv-target";
import { readJson } from "../kv/read-json";
import { contentVersion } from "../publish/mirrors-config";

/** What the admin commands read from a namespace: the loaded table, the crawl state and the newest publication. */
export interface LiveState {
  table: MirrorTable | null;
  crawl: CrawlState;
  publication: Publication | null;
  overrides: MirrorOverride[];
}

export async function readLiveState(target: KvTarget): Promise<LiveState> {
  const [table, crawl, publication, overrides] = await Promise.all([
    readJson<MirrorTable>(target, keys.mirrors()),
    readJson<CrawlState>(target, keys.crawlState()),
    target.readPublication(),
    readOverrides(target),
  ]);
  return { table, crawl: crawl ?? {}, publication, overrides };
}

/** The operator's switches (`mirrors:overrides`); none when the key is absent. */
export async function readOverrides(target: KvTarget): Promise<MirrorOverride[]> {
  const stored = await readJson<unknown>(target, keys.mirrorOverrides());
  if (stored === null) return [];
  if (!Array.isArray(stored) || !stored.every((entry) => typeof entry?.id === "string" && typeof entry?.enabled === "boolean" && typeof entry?.at === "string")) {
    throw new CliError(`the namespace's ${keys.mirrorOverrides()} is not a list of {id, enabled, at}`);
  }
  return stored as MirrorOverride[];
}

/**
 * The table with each override's `enabled` in place of the file's, under the
 * version of that content: isolates re-read it and the crawler takes a
 * disabled mirror out of its sweep at its next run, while the crawl state,
 * which the crawler keeps for every mirror of the table, is left as it is.
 */
export async function applyOverrides(table: MirrorTable, overrides: readonly MirrorOverride[]): Promise<MirrorTable> {
  if (overrides.length === 0) return table;
  const byId = new Map(overrides.map((override) => [override.id, override]));
  const mirrors = table.mirrors.map((mirror) => {
    const override = byId.get(mirror.id);
    return override === undefined || override.enabled === mirror.enabled ? mirror : { ...mirror, enabled: override.enabled };
  });
  return { version: await contentVersion({ origin: table.origin, mirrors }), origin: table.origin, mirrors };
}

/** Ids the overrides name that the table does not hold, for a warning. */
export function unknownOverrides(table: MirrorTable, overrides: readonly MirrorOverride[]): string[] {
  const ids = new Set(table.mirrors.map((mirror) => mirror.id));
  return overrides.filter((override) => !ids.has(override.id)).map((override) => override.id);
}

/**
 * Switches one mirror on or off: records the override and rewrites `mirrors`
 * with it applied, the override first, so a later `mirrors load` keeps the
 * switch even if the second write never happened.
 */
export async function setMirrorEnabled(target: KvTarget, id: string, enabled: boolean, options: { note?: string; now: Date }): Promise<{ table: MirrorTable; changed: boolean }> {
  const [table, overrides] = await Promise.all([readJson<MirrorTable>(target, keys.mirrors()), readOverrides(target)]);
  if (table === null) throw new CliError("the namespace has no mirror table: load one with `frontdoor mirrors load <mirrors.toml>` first");
  const mirror = table.mirrors.find((entry) => entry.id === id);
  if (mirror === undefined) throw new CliError(`the loaded table has no mirror ${JSON.stringify(id)}; it has ${table.mirrors.map((entry) => entry.id).join(", ") || "none"}`);
  const override: MirrorOverride = { id, enabled, at: options.now.toISOString(), ...(options.note === undefined ? {} : { note: options.note }) };
  const next = [...overrides.filter((entry) => entry.id !== id), override];
  const updated = await applyOverrides(table, next);
  await target.putEntries([mirrorOverridesEntry(next)]);
  if (updated.version !== table.version) await target.putEntries([mirrorsEntry(updated)]);
  return { table: updated, changed: mirror.enabled !== enabled };
}

/** One mirror as `mirrors list` shows it. */
export interface MirrorListRow {
  id: string;
  status: MirrorStatus;
  private: boolean;
  verified: number | null;
  announced: number | null;
  lastChecked: string | null;
  lastFailureReason: string | null;
  /** The operator's switch, when one applies. */
  override: MirrorOverride | null;
}

/** Every mirror of the table with the state selection and the status page give it (`classifyMirror`). */
export function listRows(state: LiveState): MirrorListRow[] {
  if (state.table === null) return [];
  const overrides = new Map(state.overrides.map((override) => [override.id, override]));
  const newest = state.publication?.generation ?? null;
  return state.table.mirrors.map((mirror) => {
    const health: MirrorHealth | undefined = Object.hasOwn(state.crawl, mirror.id) ? state.crawl[mirror.id] : undefined;
    return {
      id: mirror.id,
      status: classifyMirror(mirror, health, newest),
      private: mirror.private,
      verified: health !== undefined && health.verified >= 0 ? health.verified : null,
      announced: health !== undefined && health.announced >= 0 ? health.announced : null,
      lastChecked: health?.lastChecked ?? null,
      lastFailureReason: health?.lastFailureReason ?? null,
      override: overrides.get(mirror.id) ?? null,
    };
  });
}

/** Left-aligned columns, two spaces apart. */
export function formatColumns(rows: readonly string[][]): string {
  const widths = rows.reduce<number[]>((max, row) => row.map((cell, i) => Math.max(max[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
}

export function formatList(state: LiveState): string {
  const rows = listRows(state);
  const head = `Newest publication: ${state.publication === null ? "none" : `generation ${state.publication.generation}`}; table version ${state.table?.version ?? "(none loaded)"}; ${rows.length} mirrors.`;
  if (rows.length === 0) return head;
  const lines = [
    ["ID", "STATUS", "VERIFIED", "ANNOUNCED", "LAST CHECK", "LAST FAILURE", "NOTES"],
    ...rows.map((row) => [
      row.id,
      row.status,
      row.verified === null ? "-" : String(row.verified),
      row.announced === null ? "-" : String(row.announced),
      row.lastChecked ?? "never",
      row.lastFailureReason ?? "-",
      [row.private ? "private" : "", row.override === null ? "" : `${row.override.enabled ? "enabled" : "disabled"} by admin ${row.override.at}${row.override.note === undefined ? "" : `: ${row.override.note}`}`]
        .filter((note) => note !== "")
        .join("; "),
    ]),
  ];
  return `${head}\n${formatColumns(lines)}`;
}

/** One mirror's recent checks, newest first, and what it is excluded for. */
export interface MirrorHistory {
  id: string;
  status: MirrorStatus;
  badBlobs: MirrorHealth["badBlobs"];
  recent: CheckRecord[];
}

export function mirrorHistory(state: LiveState, id: string): MirrorHistory {
  const mirror = state.table?.mirrors.find((entry) => entry.id === id);
  if (mirror === undefined) throw new CliError(`the loaded table has no mirror ${JSON.stringify(id)}`);
  const health = Object.hasOwn(state.crawl, id) ? state.crawl[id] : undefined;
  return {
    id,
    status: classifyMirror(mirror, health, state.publication?.generation ?? null),
    badBlobs: health?.badBlobs ?? [],
    recent: [...(health?.recent ?? [])].reverse(),
  };
}

export function formatHistory(history: MirrorHistory): string {
  const lines = [`Mirror ${history.id}: ${history.status}; ${history.recent.length} recent checks, newest first.`];
  if (history.recent.length > 0) {
    lines.push(
      formatColumns([
        ["WHEN", "OUTCOME", "ANNOUNCED", "VERIFIED", "BLOBS", "FAILURE"],
        ...history.recent.map((check) => [
          check.at,
          check.outcome,
          check.announced === null ? "-" : String(check.announced),
          check.verified < 0 ? "-" : String(check.verified),
          String(check.blobs),
          check.failure === null ? "-" : `${check.failure.reason}: ${check.failure.detail}`,
        ]),
      ]),
    );
  }
  if (history.badBlobs.length > 0) {
    lines.push(`Excluded for ${history.badBlobs.length} blobs:`, ...history.badBlobs.map((blob) => `  ${blob.digest} (generation ${blob.generation}) since ${blob.since}`));
  }
  return lines.join("\n");
}
