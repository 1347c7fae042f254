/**
 * The seven continent codes Cloudflare reports in `request.cf.continent`,
 * which a mirror's `continent` must be one of.
 */
export const CONTINENT_CODES = ["AF", "AN", "AS", "EU", "NA", "OC", "SA"] as const;

export type ContinentCode = (typeof CONTINENT_CODES)[number];

const CODES: ReadonlySet<string> = new Set(CONTINENT_CODES);

export function isContinentCode(value: string): value is ContinentCode {
  return CODES.has(value);
}
