import { isContinentCode } from "./continents";
import { parseIp } from "./ip";
import type { ClientLocation } from "./select";

/** Fields of a client location that a development setup may pretend. */
export type ClientOverride = Partial<ClientLocation>;

/** What decides whether overrides apply: `devClient` is null in production, which ignores every override. */
export interface ClientSettings {
  production: boolean;
  devClient: ClientOverride | null;
}

const MAX_ASN = 4294967295;

function finiteNumber(value: unknown): number | null {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) ? number : null;
}

function upperCode(value: unknown): string | null {
  return typeof value === "string" && /^[A-Za-z0-9]{2}$/.test(value) ? value.toUpperCase() : null;
}

function inRange(value: unknown, limit: number): number | undefined {
  const number = finiteNumber(value);
  return number !== null && Math.abs(number) <= limit ? number : undefined;
}

/** One validator per overridable field; undefined means the value is invalid. */
const OVERRIDE_FIELDS: Record<keyof ClientLocation, (raw: unknown) => string | number | undefined> = {
  ip: (raw) => (typeof raw === "string" && parseIp(raw) !== null ? raw : undefined),
  country: (raw) => (typeof raw === "string" && /^[A-Za-z]{2}$/.test(raw) ? raw.toUpperCase() : undefined),
  continent: (raw) => (typeof raw === "string" && isContinentCode(raw.toUpperCase()) ? raw.toUpperCase() : undefined),
  asn: (raw) => {
    const number = typeof raw === "string" && /^\d{1,10}$/.test(raw) ? Number(raw) : raw;
    return typeof number === "number" && Number.isInteger(number) && number >= 0 && number <= MAX_ASN ? number : undefined;
  },
  latitude: (raw) => inRange(raw, 90),
  longitude: (raw) => inRange(raw, 180),
};

/** Request headers that override the client's location outside production. */
export const OVERRIDE_HEADERS: Record<keyof ClientLocation, string> = {
  ip: "X-Frontdoor-Client-Ip",
  country: "X-Frontdoor-Client-Country",
  continent: "X-Frontdoor-Client-Continent",
  asn: "X-Frontdoor-Client-Asn",
  latitude: "X-Frontdoor-Client-Lat",
  longitude: "X-Frontdoor-Client-Lon",
};

const FIELDS = Object.keys(OVERRIDE_FIELDS) as Array<keyof ClientLocation>;

function setField(override: ClientOverride, field: keyof ClientLocation, raw: unknown): boolean {
  const value = OVERRIDE_FIELDS[field](raw);
  if (value === undefined) return false;
  (override as Record<keyof ClientLocation, unknown>)[field] = value;
  return true;
}

/**
 * Parses the dev-only default location (variable `DEV_CLIENT_LOCATION`, a
 * JSON object with any of ip, country, continent, asn, latitude, longitude).
 * An unknown field or invalid value fails loudly, like every setting.
 */
export function parseDevClient(json: string | undefined): ClientOverride {
  if (json === undefined || json.trim() === "") return {};
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error(`DEV_CLIENT_LOCATION must be a JSON object, got ${JSON.stringify(json)}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("DEV_CLIENT_LOCATION must be a JSON object");
  const override: ClientOverride = {};
  for (const [field, value] of Object.entries(raw)) {
    if (!(FIELDS as string[]).includes(field) || !setField(override, field as keyof ClientLocation, value)) {
      throw new Error(`DEV_CLIENT_LOCATION has an invalid ${JSON.stringify(field)}: ${JSON.stringify(value)}`);
    }
  }
  return override;
}

/** The override carried by `X-Frontdoor-Client-*` headers, and the names of headers whose value was invalid and ignored. */
export function headerOverride(headers: Headers): { override: ClientOverride; invalid: string[] } {
  const override: ClientOverride = {};
  const invalid: string[] = [];
  for (const field of FIELDS) {
    const value = headers.get(OVERRIDE_HEADERS[field]);
    if (value !== null && !setField(override, field, value.trim())) invalid.push(OVERRIDE_HEADERS[field]);
  }
  return { override, invalid };
}

/** The client's address and place as Cloudflare's edge reports them (`CF-Connecting-IP`, `request.cf`). */
export function edgeLocation(request: Request): ClientLocation {
  const cf = (request as Request<unknown, IncomingRequestCfProperties>).cf;
  const ip = request.headers.get("CF-Connecting-IP");
  return {
    ip: ip !== null && parseIp(ip) !== null ? ip : null,
    country: upperCode(cf?.country),
    continent: upperCode(cf?.continent),
    asn: finiteNumber(cf?.asn),
    latitude: inRange(cf?.latitude, 90) ?? null,
    longitude: inRange(cf?.longitude, 180) ?? null,
  };
}

/**
 * Where the client is: the edge's view,
 * then, outside production only, the configured default and the
 * `X-Frontdoor-Client-*` headers on top. `ignored` names invalid headers.
 */
export function locateClient(request: Request, settings?: ClientSettings): { location: ClientLocation; ignored: string[] } {
  const edge = edgeLocation(request);
  if (settings === undefined || settings.production || settings.devClient === null) return { location: edge, ignored: [] };
  const { override, invalid } = headerOverride(request.headers);
  return { location: { ...edge, ...settings.devClient, ...override }, ignored: invalid };
}

/** The client's location for selection; overrides apply only when `settings` say this is not production. */
export function clientLocation(request: Request, settings?: ClientSettings): ClientLocation {
  return locateClient(request, settings).location;
}
