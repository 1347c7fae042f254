import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { DownloadCounts, DownloadSummary, WindowSummary } from "../stats/download-stats";
import { MIRROR_STATUSES, type MirrorReport, type MirrorStatus, type PublicMirrorRow, type StatusReport } from "./status-report";
import { formatBytes } from "./bytes";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const CONTINENTS: Record<string, string> = {
  AF: "Africa",
  AN: "Antarctica",
  AS: "Asia",
  EU: "Europe",
  NA: "North America",
  OC: "Oceania",
  SA: "South America",
};

const STATUS_HELP: Record<MirrorStatus, string> = {
  up: "verified for the newest publication",
  stale: "verified only for older content, which it serves",
  failing: "missed its last check, still in rotation",
  down: "failed too many recent checks, out of rotation until it passes several in a row",
  unchecked: "not yet verified blob by blob, out of rotation",
  disabled: "switched off by the operator",
};

const STYLE = `
:root{color-scheme:light dark;--bg:#fbfbfa;--fg:#1d1f21;--muted:#5f6368;--line:#e3e3e0;--head:#f1f1ee;--accent:#2557a7;
--up:#1e7b3a;--up-bg:#e3f4e8;--stale:#8a5a00;--stale-bg:#fdf0d2;--failing:#a84300;--failing-bg:#fde4d2;--down:#b3261e;--down-bg:#fbe2e0;--off:#5f6368;--off-bg:#ececea}
@media (prefers-color-scheme:dark){:root{--bg:#17181a;--fg:#e6e6e3;--muted:#a0a3a7;--line:#2e3033;--head:#202225;--accent:#8ab4f8;
--up:#7fd49a;--up-bg:#173323;--stale:#f2c46d;--stale-bg:#3a2f14;--failing:#f7a66b;--failing-bg:#3d2615;--down:#f28b82;--down-bg:#3f1d1b;--off:#a0a3a7;--off-bg:#2a2c2f}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
main{max-width:80rem;margin:0 auto;padding:2rem 1.25rem 3rem}
h1{font-size:1.6rem;margin:0 0 .25rem}
h2{font-size:1.1rem;margin:2rem 0 .6rem}
p{margin:.25rem 0}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.muted{color:var(--muted)}
.notice{border-left:4px solid #d97706;background:#fff7ed;padding:.5rem .75rem;border-radius:.25rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:1.25rem 0 0;padding:0;list-style:none}
.cards li{border:1px solid var(--line);border-top:3px solid var(--off);border-radius:.5rem;padding:.55rem .9rem;min-width:7.5rem;background:var(--head)}
.cards li[data-status=up]{border-top-color:var(--up)}.cards li[data-status=stale]{border-top-color:var(--stale)}
.cards li[data-status=failing]{border-top-color:var(--failing)}.cards li[data-status=down]{border-top-color:var(--down)}
.cards li[data-status=private]{border-top-color:var(--accent)}
.cards b{display:block;font-size:1.35rem;font-variant-numeric:tabular-nums}
.cards span{color:var(--muted);font-size:.85rem}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:.5rem}
.table-wrap+.table-wrap{margin-top:.75rem}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:.45rem .75rem;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap}
th{background:var(--head);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}
tbody tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right}
tr.group th{background:transparent;color:var(--fg);font-size:.85rem;text-transform:none;letter-spacing:0;padding-top:.8rem}
.url{font-size:.82rem;color:var(--muted)}
.badge{display:inline-block;padding:.05rem .55rem;border-radius:999px;font-size:.8rem;font-weight:600}
.badge-up{color:var(--up);background:var(--up-bg)}
.badge-stale{color:var(--stale);background:var(--stale-bg)}
.badge-failing{color:var(--failing);background:var(--failing-bg)}
.badge-down{color:var(--down);background:var(--down-bg)}
.badge-unchecked,.badge-disabled{color:var(--off);background:var(--off-bg)}
.reason{display:block;font-size:.78rem;color:var(--muted);margin-top:.1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem .9rem;margin:.5rem 0 0;font-size:.9rem}
dt{margin:0}dd{margin:0;color:var(--muted)}
.about{display:block;font-size:.78rem;color:var(--muted)}
.unit{font-weight:400;text-transform:none;letter-spacing:0}
td.countries{white-space:normal;min-width:12rem}
td.failure{white-space:normal;min-width:16rem;overflow-wrap:anywhere}
footer{margin-top:2.5rem;font-size:.85rem;color:var(--muted)}
@media (max-width:48rem){
main{padding:1.25rem .75rem 2rem}
.table-wrap{border:0;overflow:visible}
table.cards-on-phone,table.cards-on-phone tbody{display:block}
table.cards-on-phone thead{display:none}
table.cards-on-phone tr{display:grid;grid-template-columns:1fr 1fr;gap:.15rem .75rem;border:1px solid var(--line);border-radius:.5rem;padding:.6rem .75rem;margin:0 0 .6rem}
table.cards-on-phone tr.group{display:block;border:0;padding:.4rem 0 0;margin:0}
table.cards-on-phone tr.group th{display:block;padding:0}
table.cards-on-phone td{display:block;border:0;padding:.1rem 0;white-space:normal;overflow-wrap:anywhere;text-align:left}
table.cards-on-phone td::before{content:attr(data-label);display:block;font-size:.7rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
table.cards-on-phone td.mirror{order:-2}
table.cards-on-phone td.mirror::before{display:none}
table.cards-on-phone td.state{order:-1;text-align:right}
table.cards-on-phone td.state::before{display:none}
table.cards-on-phone td.failure,table.cards-on-phone td.countries,table.cards-on-phone td.wide{grid-column:1/-1}
dd{overflow-wrap:anywhere}
}
footer p{margin-top:1rem}
`;

export function continentName(code: string): string {
  return CONTINENTS[code] ?? code;
}

/** "42 s ago", "5 min ago", "3 h ago", "2 d ago": how long before `now` an RFC 3339 time lies. */
export function timeAgo(then: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(then)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

function moment(value: string | null, now: Date): Html | string {
  if (value === null) return "never";
  return html`<time datetime="${value}" title="${value}">${timeAgo(value, now)}</time>`;
}

export function isWebUrl(value: string): boolean {
  return value.startsWith("https://") || value.startsWith("http://");
}

export function badge(status: MirrorStatus): Html {
  return html`<span class="badge badge-${status}" title="${STATUS_HELP[status]}">${status}</span>`;
}

function progress(row: PublicMirrorRow): string {
  if (row.progress.total === 0) return "–";
  return `${row.progress.verified} of ${row.progress.total}`;
}

function lastFailure(row: PublicMirrorRow, now: Date): Html | string {
  const failure = row.lastFailure;
  if (failure === null) return "–";
  return html`${failure.reason} ${moment(failure.at, now)}${failure.url === null ? "" : html`<span class="reason">${failure.url}</span>`}${failure.detail === null ? "" : html`<span class="reason">${failure.detail}</span>`}`;
}

/** Path of a mirror's own page; ids are the operator's `[a-zA-Z0-9._-]` names, escaped anyway. */
function mirrorPath(id: string): string {
  return `/mirrors/${encodeURIComponent(id)}`;
}

/** The mirror's public contact and sponsor, as far as the operator made them public. */
function about(row: PublicMirrorRow): Html | string {
  const parts: Array<Html | string> = [];
  if (row.sponsor !== null) {
    const name = row.sponsor.url !== null && isWebUrl(row.sponsor.url) ? html`<a href="${row.sponsor.url}" rel="sponsored">${row.sponsor.name}</a>` : row.sponsor.name;
    parts.push(html`<span class="about" data-field="sponsor">Sponsored by ${name}</span>`);
  }
  if (row.contact !== null) {
    const href = isWebUrl(row.contact) ? row.contact : `mailto:${row.contact}`;
    parts.push(html`<span class="about" data-field="contact">Contact: <a href="${href}">${row.contact}</a></span>`);
  }
  return parts.length === 0 ? "" : html`${parts}`;
}

function mirrorRow(row: PublicMirrorRow, now: Date): Html {
  return html`<tr data-mirror="${row.id}">
<td class="mirror" data-label="Mirror"><strong><a href="${mirrorPath(row.id)}">${row.id}</a></strong><br><span class="url">${isWebUrl(row.baseUrl) ? html`<a href="${row.baseUrl}/">${row.baseUrl}</a>` : row.baseUrl}</span>${about(row)}</td>
<td class="state" data-label="Status" data-field="status">${badge(row.status)}${row.lastFailureReason !== null && row.status !== "up" && row.status !== "stale" ? html`<span class="reason">${row.lastFailureReason}</span>` : ""}</td>
<td data-label="Country" data-field="country">${row.country}</td>
<td data-label="Continent" data-field="continent">${row.continent}</td>
<td class="num" data-label="Weight" data-field="bandwidth" title="relative bandwidth weight">${row.bandwidth}</td>
<td class="num" data-label="Verified" data-field="generation">${row.generation ?? "–"}</td>
<td class="num" data-label="Announced" data-field="announced">${row.announced ?? "–"}</td>
<td class="num" data-label="Verified blobs" data-field="progress">${progress(row)}</td>
<td class="num" data-label="Lag" data-field="lag">${row.lag === null ? "–" : row.lag === 0 ? "current" : `${row.lag} behind`}</td>
<td data-label="Last check" data-field="last-check">${moment(row.lastChecked, now)}</td>
<td class="num" data-label="Response" data-field="response">${row.responseTime === null ? "–" : `${row.responseTime} ms`}</td>
<td class="failure" data-label="Last failure" data-field="last-failure">${lastFailure(row, now)}</td>
<td data-label="Sets" data-field="sets">${setsCell(row)}</td>
</tr>`;
}

/** The sets a mirror carries, each with its announced generation and whether it is fresh; then its scope. */
function setsCell(row: PublicMirrorRow): Html {
  const scope = row.scope === null ? "" : html`<span class="reason">serves only its ${row.scope}${row.otherCountries.length === 0 ? "" : ` and ${row.otherCountries.join(", ")}`}</span>`;
  return html`${row.sets.map((set) => html`<span data-set="${set.name}" data-fresh="${set.fresh ? "yes" : "no"}">${set.name} (${set.announced ?? "–"}${set.fresh ? ", fresh" : ""})</span> `)}${scope}`;
}

function setTable(report: StatusReport): Html {
  return html`<div class="table-wrap"><table id="sets" class="cards-on-phone">
<thead><tr><th>Content set</th><th class="num">Fresh mirrors</th><th>By continent</th></tr></thead>
<tbody>${report.counts.sets.map(
    (set) =>
      html`<tr data-set="${set.set}"><td data-label="Content set">${set.set}</td><td class="num" data-label="Fresh mirrors">${set.fresh}</td><td class="wide" data-label="By continent">${set.continents.map((group) => `${continentName(group.continent)}: ${group.fresh}`).join(", ") || "–"}</td></tr>`,
  )}</tbody>
</table></div>`;
}

function mirrorTable(report: StatusReport, now: Date): Html {
  if (report.mirrors.length === 0) return html`<p class="muted">No public mirrors are configured.</p>`;
  const groups: Html[] = [];
  let continent: string | null = null;
  for (const row of report.mirrors) {
    if (row.continent !== continent) {
      continent = row.continent;
      groups.push(html`<tr class="group"><th colspan="13">${continentName(continent)}</th></tr>`);
    }
    groups.push(mirrorRow(row, now));
  }
  return html`<div class="table-wrap"><table id="mirrors" class="cards-on-phone">
<thead><tr><th>Mirror</th><th>Status</th><th>Country</th><th>Continent</th><th class="num" title="relative bandwidth weight: a mirror of weight 20 gets twice the clients of one of weight 10">Weight <span class="unit">(relative)</span></th><th class="num">Verified</th><th class="num">Announced</th><th class="num">Verified blobs</th><th class="num">Lag</th><th>Last check</th><th class="num">Response</th><th>Last failure</th><th>Sets</th></tr></thead>
<tbody>${groups}</tbody>
</table></div>`;
}

function continentTable(report: StatusReport): Html {
  return html`<div class="table-wrap"><table id="continents" class="cards-on-phone">
<thead><tr><th>Continent</th><th class="num">Mirrors</th><th class="num">Up</th><th class="num" title="sum of the relative bandwidth weights of the mirrors in rotation">Weight in rotation</th><th>Countries</th></tr></thead>
<tbody>${report.counts.continents.map(
    (group) => html`<tr data-continent="${group.continent}"><td data-label="Continent">${continentName(group.continent)}</td><td class="num" data-label="Mirrors">${group.mirrors}</td><td class="num" data-label="Up">${group.up}</td><td class="num" data-label="Weight in rotation">${group.bandwidth}</td><td class="countries" data-label="Countries">${report.counts.countries
      .filter((country) => country.continent === group.continent)
      .map((country) => `${country.country}: ${country.up} of ${country.mirrors} up`)
      .join(", ")}</td></tr>`,
  )}</tbody>
</table></div>`;
}

function countCells(counts: DownloadCounts | undefined, window: string): Html {
  return html`<td class="num" data-label="Redirects, ${window}" data-field="${window}-redirects">${counts?.redirects ?? 0}</td><td class="num" data-label="Bytes, ${window}" data-field="${window}-bytes" title="${counts?.bytes ?? 0} bytes">${formatBytes(counts?.bytes ?? 0)}</td>`;
}

/** One grouping (by mirror, country or set) of both windows, largest day first. */
function downloadTable(id: string, label: string, day: ReadonlyArray<{ key: string } & DownloadCounts>, hour: ReadonlyMap<string, DownloadCounts>): Html {
  return html`<div class="table-wrap"><table id="${id}" class="cards-on-phone">
<thead><tr><th>${label}</th><th class="num">Redirects, last hour</th><th class="num">Bytes, last hour</th><th class="num">Redirects, last day</th><th class="num">Bytes, last day</th></tr></thead>
<tbody>${day.map((row) => html`<tr data-key="${row.key}"><td class="mirror" data-label="${label}">${row.key}</td>${countCells(hour.get(row.key), "hour")}${countCells(row, "day")}</tr>`)}</tbody>
</table></div>`;
}

function grouping<T extends DownloadCounts>(window: WindowSummary, pick: (window: WindowSummary) => readonly T[], key: (row: T) => string): Array<{ key: string } & DownloadCounts> {
  return pick(window).map((row) => ({ key: key(row), redirects: row.redirects, bytes: row.bytes }));
}

function byKey(rows: ReadonlyArray<{ key: string } & DownloadCounts>): Map<string, DownloadCounts> {
  return new Map(rows.map((row) => [row.key, row]));
}

/** The download statistics: totals, then by mirror, by country and (once content sets exist) by set. */
function downloadsSection(downloads: DownloadSummary | null, now: Date): Html {
  if (downloads === null) return html`<h2>Downloads</h2><p class="muted" id="downloads">Download statistics are not available.</p>`;
  const tables: Array<[string, string, (window: WindowSummary) => Array<{ key: string } & DownloadCounts>]> = [
    ["downloads-mirrors", "Mirror", (window) => grouping(window, (w) => w.mirrors, (row) => row.id)],
    ["downloads-countries", "Client country", (window) => grouping(window, (w) => w.countries, (row) => row.country)],
    ["downloads-sets", "Set", (window) => grouping(window, (w) => w.sets, (row) => row.set)],
  ];
  return html`<h2>Downloads</h2>
<p class="muted" id="downloads">Blob redirects and the bytes they sent clients to fetch: <strong data-field="hour-total">${downloads.hour.redirects}</strong> redirects (${formatBytes(downloads.hour.bytes)}) in the last hour, <strong data-field="day-total">${downloads.day.redirects}</strong> (${formatBytes(downloads.day.bytes)}) in the last day, as of ${moment(downloads.asOf, now)}.</p>
${tables
  .filter(([, , rows]) => rows(downloads.day).length > 0)
  .map(([id, label, rows]) => downloadTable(id, label, rows(downloads.day), byKey(rows(downloads.hour))))}`;
}

/** The pages' shared `<head>`: one inline style sheet, nothing else. */
export function head(title: string): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>`;
}

/** One public mirror's page: its state, what it is excluded for, and its recent checks, newest first. */
export function renderMirrorPage(report: MirrorReport): Html {
  const now = new Date(report.generated);
  const row = report.mirror;
  return html`${head(`Mirror ${row.id}`)}
<body>
<main>
<p><a href="/">All mirrors</a></p>
<h1>Mirror ${row.id}</h1>
<p class="muted">${row.baseUrl} · ${row.country}, ${continentName(row.continent)} · Also as <a href="${mirrorPath(row.id)}.json">JSON</a>.</p>
<dl id="mirror">
<dt>Status</dt><dd data-field="status">${badge(row.status)}</dd>
<dt>Verified generation</dt><dd data-field="verified">${row.verified ?? "none yet"}</dd>
<dt>Announced generation</dt><dd data-field="announced">${row.announced ?? "–"}</dd>
<dt>Newest publication</dt><dd>${report.publication?.generation ?? "–"}</dd>
<dt>Verified blobs</dt><dd data-field="progress">${progress(row)}</dd>
<dt>Last check</dt><dd>${moment(row.lastChecked, now)}</dd>
<dt>Last failure</dt><dd data-field="last-failure">${lastFailure(row, now)}</dd>
${row.sponsor === null && row.contact === null ? "" : html`<dt>Run by</dt><dd>${about(row)}</dd>`}
</dl>
<h2>Excluded blobs</h2>
${
  report.badBlobs.length === 0
    ? html`<p class="muted">None: the mirror serves every blob it is verified for.</p>`
    : html`<div class="table-wrap"><table id="bad-blobs"><thead><tr><th>Digest</th><th class="num">Generation</th><th>Since</th></tr></thead>
<tbody>${report.badBlobs.map((blob) => html`<tr><td>${blob.digest}</td><td class="num">${blob.generation}</td><td>${moment(blob.since, now)}</td></tr>`)}</tbody></table></div>`
}
<h2>Recent checks</h2>
${
  report.recent.length === 0
    ? html`<p class="muted">Not checked yet.</p>`
    : html`<div class="table-wrap"><table id="checks"><thead><tr><th>When</th><th>Outcome</th><th class="num">Announced</th><th class="num">Verified</th><th class="num">Blobs checked</th><th>Failure</th></tr></thead>
<tbody>${report.recent.map(
        (check) => html`<tr data-outcome="${check.outcome}"><td>${moment(check.at, now)}</td><td>${check.outcome}</td><td class="num">${check.announced ?? "–"}</td><td class="num">${check.verified < 0 ? "–" : check.verified}</td><td class="num">${check.blobs}</td><td>${
          check.failure === null ? "–" : html`${check.failure.reason}<span class="reason">${check.failure.url}</span><span class="reason">${check.failure.detail}</span>`
        }</td></tr>`,
      )}</tbody></table></div>`
}
<footer><p>A check reads the mirror's marker, then GETs blob paths from the publication's inventory: <code>fail</code> counts toward down, <code>held</code> only holds back verification of a newer generation.</p></footer>
</main>
</body>
</html>`;
}

/**
 * The public mirror list: server-rendered HTML
 * without scripts, every value escaped by `hono/html`.
 */
export function renderStatusPage(report: StatusReport): Html {
  const now = new Date(report.generated);
  const publication = report.publication;
  return html`${head("Mirror status")}
<body>
<main>
<h1>Mirror status</h1>
<p class="muted">${
    publication === null
      ? "Nothing has been published yet."
      : html`Newest publication: generation <strong>${publication.generation}</strong>, published ${moment(publication.published, now)}.`
  } Generated ${moment(report.generated, now)}. Also as <a href="/status.json">JSON</a>.</p>${
    report.publishing === null
      ? ""
      : html`
<p class="notice" id="publishing">Generation <strong>${report.publishing.generation}</strong> was started ${moment(report.publishing.started, now)} and is not complete: some tags may already serve it while this page still names generation ${publication?.generation ?? "–"}. The next publication completes it.</p>`
  }
<ul class="cards" id="summary">
${MIRROR_STATUSES.map((status) => html`<li data-status="${status}"><b>${report.counts.status[status]}</b><span>${status}</span></li>`)}
<li data-status="private"><b>${report.private.mirrors}</b><span>private (${report.private.up} up)</span></li>
</ul>
<h2>By continent</h2>
${continentTable(report)}
<h2>By content set</h2>
${setTable(report)}
<h2>Public mirrors</h2>
${mirrorTable(report, now)}
${downloadsSection(report.downloads, now)}
<footer>
<dl>${MIRROR_STATUSES.map((status) => html`<dt>${badge(status)}</dt><dd>${STATUS_HELP[status]}</dd>`)}</dl>
<p>Private mirrors serve only clients inside their own networks and are counted, not listed. Weight is the relative bandwidth the operator gave a mirror: within a tier, a mirror of weight 20 gets twice the clients of one of weight 10. Verified is the newest generation for which every blob was checked on the mirror; announced is what its marker says. Lag counts publications a mirror's verified content is behind; a mirror is only sent clients for content it was verified for. Each mirror's page lists its recent checks.</p>
</footer>
</main>
</body>
</html>`;
}
