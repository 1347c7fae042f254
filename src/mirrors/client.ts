import type { ClientLocation } from "./select";

function finiteNumber(value: unknown): number | null {
  const number = typeof value === "string" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) ? number : null;
}

function upperCode(value: unknown): string | null {
  return typeof value === "string" && /^[A-Za-z0-9]{2}$/.test(value) ? value.toUpperCase() : null;
}

/** The client's address and place as Cloudflare's edge reports them (`CF-Connecting-IP`, `request.cf`). */
export function clientLocation(request: Request): ClientLocation {
  const cf = (request as Request<unknown, IncomingRequestCfProperties>).cf;
  return {
    ip: request.headers.get("CF-Connecting-IP"),
    country: upperCode(cf?.country),
    continent: upperCode(cf?.continent),
    asn: finiteNumber(cf?.asn),
    latitude: finiteNumber(cf?.latitude),
    longitude: finiteNumber(cf?.longitude),
  };
}
