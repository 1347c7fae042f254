/**
 * A client's own choice of mirrors, made without patching its client
 * (docs/selection.md, "Pinning and avoiding mirrors"): the host name it pulls
 * from. `<mirror-id>.<front door host>` pins a mirror; a label
 * `not-<mirror-id>` avoids one, `not-<cc>` (two letters) avoids a country's
 * mirrors; labels combine, e.g. `not-de-fra.not-us.<front door host>`.
 */
export interface ClientChoice {
  /** Mirror id to send this client to first, when it may serve the content; null for none. */
  pin: string | null;
  /** Mirror ids never to send this client to. */
  avoid: string[];
  /** ISO 3166-1 alpha-2 codes, upper case: mirrors standing there are avoided. */
  avoidCountries: string[];
}

/** The label prefix that avoids a mirror or a country; no mirror id may start with it. */
export const AVOID_PREFIX = "not-";

/** One DNS label as a mirror id can be: lower-case letters, digits, '-' and '_'. */
const LABEL = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const COUNTRY = /^[a-z]{2}$/;
const MAX_LABELS = 8;

export const NO_CHOICE: ClientChoice = Object.freeze({ pin: null, avoid: [], avoidCountries: [] }) as ClientChoice;

/** A `Host` header's name: lower case, without the port; null when it is not a plain host name. */
function hostName(host: string): string | null {
  const name = host.trim().toLowerCase().replace(/:\d{1,5}$/, "").replace(/\.$/, "");
  return /^[a-z0-9._-]{1,253}$/.test(name) ? name : null;
}

/**
 * Reads the choice a `Host` header makes below one of the front door's own
 * host names (`FRONTDOOR_HOSTS`). Anything it cannot read, two pins, too
 * many labels, or a host that is none of `bases` or below them, is no
 * choice at all: the client gets normal selection. Ids and countries are
 * only checked against the table by selection, which ignores unknown ones.
 */
export function parseHostChoice(host: string | null | undefined, bases: readonly string[]): ClientChoice {
  if (host === null || host === undefined || bases.length === 0) return NO_CHOICE;
  const name = hostName(host);
  if (name === null) return NO_CHOICE;
  const base = bases.find((candidate) => name.endsWith(`.${candidate}`));
  if (base === undefined) return NO_CHOICE;
  const labels = name.slice(0, -(base.length + 1)).split(".");
  if (labels.length > MAX_LABELS) return NO_CHOICE;
  const choice: ClientChoice = { pin: null, avoid: [], avoidCountries: [] };
  for (const label of labels) {
    if (!LABEL.test(label)) return NO_CHOICE;
    if (label.startsWith(AVOID_PREFIX)) {
      const target = label.slice(AVOID_PREFIX.length);
      if (!LABEL.test(target)) return NO_CHOICE;
      choice.avoid.push(target);
      if (COUNTRY.test(target)) choice.avoidCountries.push(target.toUpperCase());
    } else {
      if (choice.pin !== null) return NO_CHOICE;
      choice.pin = label;
    }
  }
  return choice;
}

/** Reads `FRONTDOOR_HOSTS`: comma-separated host names of the front door, lower case, no ports. */
export function parseFrontDoorHosts(value: string | undefined): string[] {
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((part) => {
    const name = part.trim().toLowerCase();
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name)) throw new Error(`FRONTDOOR_HOSTS: ${JSON.stringify(part)} is not a host name`);
    return name;
  });
}
