import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import type { ClientLocation, ExclusionReason, Selection, Tier } from "../mirrors/select";
import type { MirrorTable } from "../mirrors/types";
import { blobUrl } from "../oci/layout";
import type { Digest } from "../oci/reference";
import { continentName, head, isWebUrl } from "./status-page";

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** What the list was asked for: an image by tag or digest, or one blob. */
export interface MirrorListSubject {
  repository: string;
  /** `<name>:<tag>`, `<name>@<digest>` or `<name>/blobs/<digest>`, as it was asked. */
  reference: string;
  digest: Digest;
  /** The generation the content was first published in: mirrors must be verified for it. */
  generation: number;
}

/** One mirror of the list, best first. */
export interface MirrorListEntry {
  rank: number;
  /** Mirror id, or "origin". */
  id: string;
  country: string | null;
  tier: Tier;
  /** Why it ranks here, in words. */
  reason: string;
  /** The content's URL on it: `<base_url>/blobs/<alg>/<hex>`. */
  url: string;
}

/** A public mirror that is not in the list, and why. */
export interface MirrorListExclusion {
  id: string;
  reason: ExclusionReason;
  explanation: string;
}

/** `GET /mirrorlist/...`: the ranked public mirrors a client gets for one piece of content, as MirrorBrain's mirror list for a file. */
export interface MirrorListReport {
  generated: string;
  subject: MirrorListSubject;
  /** Where the front door takes the client to be; its address is not repeated back. */
  client: { country: string | null; continent: string | null; asn: number | null; located: boolean };
  mirrors: MirrorListEntry[];
  notListed: MirrorListExclusion[];
}

function tierReason(tier: Tier, client: ClientLocation): string {
  switch (tier) {
    case "pinned":
      return "the mirror you chose by host name";
    case "netblock":
      return "your address is inside one of this mirror's networks";
    case "asn":
      return `this mirror serves your network (AS${client.asn})`;
    case "country":
      return `in your country (${client.country})`;
    case "continent":
      return `on your continent (${client.continent === null ? "" : continentName(client.continent)})`;
    case "world":
      return client.latitude !== null && client.longitude !== null ? "rest of the world, nearest first" : "rest of the world, by bandwidth share";
    case "origin":
      return "the origin, the master copy: after every mirror";
  }
}

const EXCLUSION_TEXT: Record<ExclusionReason, (generation: number) => string> = {
  disabled: () => "switched off by the operator",
  down: () => "failed too many recent checks",
  unchecked: () => "not yet verified blob by blob",
  stale: (generation) => `not yet verified for this content (generation ${generation})`,
  "bad-blob": () => "failed a content check of this very blob",
  private: () => "",
  "ranked-lower": () => "qualifies, but the list was full or a better tier filled it",
  "out-of-scope": () => "serves only its own country or continent",
  "not-carried": () => "does not carry the content set this belongs to",
  avoided: () => "avoided by the host name you asked through",
};

/**
 * The public mirror list for one client and one piece of content, from a
 * selection made with `explain`. Private mirrors are never named, whether
 * chosen for this client or not; every other mirror of the table appears
 * once, listed or not listed with its reason.
 */
export function buildMirrorList(table: MirrorTable, selection: Selection, client: ClientLocation, subject: MirrorListSubject, now: Date): MirrorListReport {
  const hidden = new Set(table.mirrors.filter((mirror) => mirror.private).map((mirror) => mirror.id));
  const mirrors = selection.chosen
    .filter((chosen) => chosen.tier === "origin" || !hidden.has(chosen.id))
    .map((chosen, position) => ({
      rank: position + 1,
      id: chosen.id,
      country: chosen.country,
      tier: chosen.tier,
      reason: tierReason(chosen.tier, client),
      url: blobUrl(chosen.baseUrl, subject.digest),
    }));
  const notListed = selection.excluded
    .filter((excluded) => excluded.reason !== "private" && !hidden.has(excluded.id))
    .map(({ id, reason }) => ({ id, reason, explanation: EXCLUSION_TEXT[reason](subject.generation) }));
  return {
    generated: now.toISOString(),
    subject,
    client: { country: client.country, continent: client.continent, asn: client.asn, located: client.latitude !== null && client.longitude !== null },
    mirrors,
    notListed,
  };
}

function place(report: MirrorListReport): string {
  const { country, continent, asn } = report.client;
  const parts = [country === null ? null : `country ${country}`, continent === null ? null : continentName(continent), asn === null ? null : `AS${asn}`].filter((part) => part !== null);
  return parts.length === 0 ? "somewhere unknown" : parts.join(", ");
}

/** The mirror list as HTML, without scripts, every value escaped. */
export function renderMirrorListPage(report: MirrorListReport): Html {
  const { subject } = report;
  return html`${head(`Mirrors for ${subject.reference}`)}
<body>
<main>
<p><a href="/">All mirrors</a></p>
<h1>Mirrors for ${subject.reference}</h1>
<p class="muted">For a client at ${place(report)}; content first published in generation ${subject.generation}, digest <code>${subject.digest}</code>. Also as <a href="?format=json">JSON</a>.</p>
<h2>Your mirrors, best first</h2>
${
  report.mirrors.length === 0
    ? html`<p class="muted">No mirror can serve this content to you now.</p>`
    : html`<div class="table-wrap"><table id="ranked" class="cards-on-phone"><thead><tr><th class="num">Rank</th><th>Mirror</th><th>Tier</th><th>Why</th></tr></thead>
<tbody>${report.mirrors.map(
        (entry) => html`<tr data-mirror="${entry.id}"><td class="num" data-label="Rank">${entry.rank}</td><td class="mirror" data-label="Mirror"><strong>${entry.id}</strong>${entry.country === null ? "" : html` (${entry.country})`}<br><span class="url">${isWebUrl(entry.url) ? html`<a href="${entry.url}">${entry.url}</a>` : entry.url}</span></td><td data-label="Tier" data-field="tier">${entry.tier}</td><td class="failure" data-label="Why">${entry.reason}</td></tr>`,
      )}</tbody></table></div>`
}
<h2>Not listed for you</h2>
${
  report.notListed.length === 0
    ? html`<p class="muted">Every public mirror is listed.</p>`
    : html`<div class="table-wrap"><table id="not-listed" class="cards-on-phone"><thead><tr><th>Mirror</th><th>Reason</th><th>Why</th></tr></thead>
<tbody>${report.notListed.map((entry) => html`<tr data-mirror="${entry.id}"><td class="mirror" data-label="Mirror"><a href="/mirrors/${encodeURIComponent(entry.id)}">${entry.id}</a></td><td data-label="Reason" data-field="reason">${entry.reason}</td><td class="failure" data-label="Why">${entry.explanation}</td></tr>`)}</tbody></table></div>`
}
<footer><p>Clients are sent to the first mirror of the list; Metalink clients get all of them. The tier is the closest way a mirror matches you: your network, your AS, your country, your continent, or the rest of the world. Within a tier the order is sticky per network and image, weighted by bandwidth. Private mirrors are never listed here.</p></footer>
</main>
</body>
</html>`;
}
