/**
 * Faults a local mirror can be told to have, each one a way a real mirror breaks
 * (docs/mirror-admins.md says what a mirror must do instead). Blob faults touch
 * only `blobs/<alg>/<hex>` answers; the marker, `index.json` and `oci-layout`
 * stay correct, as they do on a mirror whose blob sync went wrong.
 */
export const FAULT_NAMES = [
  "none",
  "refused",
  "flapping",
  "cut-once",
  "cut-always",
  "404-some",
  "404-older",
  "marker-ahead",
  "no-blobs",
  "wrong-bytes",
  "gzip-label",
  "500-on-GET",
  "hang-on-GET",
  "slow",
] as const;

export type FaultName = (typeof FAULT_NAMES)[number];

/** What each fault does, for the control endpoint's listing and the docs. */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultName, string>> = Object.freeze({
  none: "serves the tree as it is",
  refused: "the listener is closed: every connection is refused",
  flapping: "refuses connections for two periods in every three, serves in the third (parameter: period in ms)",
  "cut-once": "the first GET of each blob path stops half-way through the body; later GETs are whole",
  "cut-always": "every blob GET stops half-way through the body",
  "404-some": "404 for the blobs larger than a bound, as if only small files had synced (parameter: bytes, default 1 MiB)",
  "404-older": "404 for every blob first published before the marker's generation (frontdoor/first-seen.json)",
  "marker-ahead": "the marker names its generation while the blobs first published in it are missing",
  "no-blobs": "only the marker, index.json and oci-layout: every other path is 404",
  "wrong-bytes": "blob bodies have the right length and one byte altered, in the middle of the file",
  "gzip-label": "Content-Encoding: gzip on blob answers whose bytes are not compressed",
  "500-on-GET": "500 for every blob GET; HEAD answers as usual",
  "hang-on-GET": "blob GETs never get their headers: the connection is held until the client or the server gives up",
  slow: "blob GETs trickle (parameter: bytes per second, default 10000)",
});

/** A fault and its one optional parameter. */
export type Fault =
  | { name: Exclude<FaultName, "flapping" | "404-some" | "slow"> }
  | { name: "flapping"; /** Length of one slice, in milliseconds. */ periodMs: number }
  | { name: "404-some"; /** Blobs strictly larger than this many bytes are missing. */ largerThan: number }
  | { name: "slow"; bytesPerSecond: number };

export const NO_FAULT: Fault = Object.freeze({ name: "none" });

/** Defaults of the parameterised faults. */
export const FAULT_DEFAULTS = Object.freeze({
  flappingPeriodMs: 10_000,
  missingLargerThan: 1024 * 1024,
  slowBytesPerSecond: 10_000,
});

function isFaultName(value: string): value is FaultName {
  return (FAULT_NAMES as readonly string[]).includes(value);
}

/** The fault `name` with its parameter, or the default one. */
export function fault(name: FaultName, parameter?: number): Fault {
  switch (name) {
    case "flapping":
      return { name, periodMs: parameter ?? FAULT_DEFAULTS.flappingPeriodMs };
    case "404-some":
      return { name, largerThan: parameter ?? FAULT_DEFAULTS.missingLargerThan };
    case "slow":
      return { name, bytesPerSecond: parameter ?? FAULT_DEFAULTS.slowBytesPerSecond };
    default:
      if (parameter !== undefined) throw new Error(`fault ${name} takes no parameter`);
      return { name };
  }
}

/**
 * Reads `<name>` or `<name>:<integer>` (`flapping:3000` is a 3 s slice, `404-some:65536` a 64 KiB
 * bound, `slow:2000` 2,000 bytes a second); throws on anything else.
 */
export function parseFault(text: string): Fault {
  const match = /^([A-Za-z0-9-]+)(?::(\d{1,10}))?$/.exec(text.trim());
  const name = match?.[1];
  if (match === null || name === undefined || !isFaultName(name)) {
    throw new Error(`unknown fault ${JSON.stringify(text)}; one of ${FAULT_NAMES.join(", ")}, optionally :<number> for flapping, 404-some and slow`);
  }
  const parameter = match[2] === undefined ? undefined : Number(match[2]);
  if (parameter !== undefined && parameter < 1) throw new Error(`fault ${name} needs a parameter of at least 1, got ${parameter}`);
  return fault(name, parameter);
}

/** The text `parseFault` reads back. */
export function formatFault(value: Fault): string {
  switch (value.name) {
    case "flapping":
      return `${value.name}:${value.periodMs}`;
    case "404-some":
      return `${value.name}:${value.largerThan}`;
    case "slow":
      return `${value.name}:${value.bytesPerSecond}`;
    default:
      return value.name;
  }
}

/**
 * Reads `FRONTDOOR_FAULTS`-style assignments, `<mirror id>=<fault>[,...]`, into a map.
 * Ids are checked against `known`, so a typo stops the start instead of faulting nothing.
 */
export function parseFaultAssignments(text: string | undefined, known: readonly string[]): Map<string, Fault> {
  const faults = new Map<string, Fault>();
  if (text === undefined || text.trim() === "") return faults;
  for (const part of text.split(",")) {
    const [id = "", value, ...rest] = part.split("=").map((piece) => piece.trim());
    if (value === undefined || rest.length > 0) throw new Error(`expected <mirror id>=<fault>, got ${JSON.stringify(part)}`);
    if (!known.includes(id)) throw new Error(`no local mirror ${JSON.stringify(id)}; the mirrors are ${known.join(", ")}`);
    faults.set(id, parseFault(value));
  }
  return faults;
}
