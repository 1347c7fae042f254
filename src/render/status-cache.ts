import { utf8 } from "../http/utf8";
import type { Mirror, MirrorTable } from "../mirrors/types";

/**
 * What the status routes keep between requests of one isolate, owned by the
 * composition root (src/services.ts) rather than by module state: the last
 * rendering of the status report, as HTML and as JSON, for one version of its
 * inputs; and the loaded table's mirrors by id, per table version.
 */
export class StatusCache {
  private rendered: { key: string; until: number; html: Uint8Array<ArrayBuffer> | null; json: Uint8Array<ArrayBuffer> | null } = { key: "", until: 0, html: null, json: null };
  private mirrors: { version: string; byId: Map<string, Mirror> } | null = null;

  /**
   * The rendering for `key` in form `as`, made by `render` unless one made for
   * the same key less than `maxAgeMs` ago is kept; `maxAgeMs` 0 renders every time.
   * It is kept as UTF-8: at 1,000 mirrors the page is about a megabyte, which
   * would otherwise be encoded again for every answer.
   */
  async rendering(key: string, as: "html" | "json", now: number, maxAgeMs: number, render: () => Promise<string> | string): Promise<Uint8Array<ArrayBuffer>> {
    if (maxAgeMs <= 0 || this.rendered.key !== key || now >= this.rendered.until) this.rendered = { key, until: now + maxAgeMs, html: null, json: null };
    const kept = this.rendered[as];
    if (kept !== null) return kept;
    const made = utf8(await render());
    this.rendered[as] = made;
    return made;
  }

  /** The table's mirrors by id, rebuilt when the table's version changes. */
  byId(table: MirrorTable): Map<string, Mirror> {
    if (this.mirrors?.version !== table.version) this.mirrors = { version: table.version, byId: new Map(table.mirrors.map((mirror) => [mirror.id, mirror])) };
    return this.mirrors.byId;
  }
}
