import { describe, expect, it } from "vitest";
import { settingsFrom } from "../../../src/config";
import { edgeLocation, locateClient, parseDevClient } from "../../../src/mirrors/client";

const DEVELOPMENT = { production: false, devClient: {} };
const PRODUCTION = { production: true, devClient: null };

function edgeRequest(headers: Record<string, string> = {}, cf: Record<string, unknown> = {}): Request {
  return new Request("http://frontdoor.test/v2/", { headers, cf } as RequestInit);
}

const overrideHeaders = {
  "X-Frontdoor-Client-Ip": "2001:db8::7",
  "X-Frontdoor-Client-Country": "jp",
  "X-Frontdoor-Client-Continent": "AS",
  "X-Frontdoor-Client-Asn": "64500",
  "X-Frontdoor-Client-Lat": "35.7",
  "X-Frontdoor-Client-Lon": "139.7",
};

describe("edgeLocation", () => {
  it("Should read the address from CF-Connecting-IP and the place from request.cf", () => {
    const request = edgeRequest({ "CF-Connecting-IP": "192.0.2.8" }, { country: "de", continent: "EU", asn: 3320, latitude: "52.5", longitude: "13.4" });
    expect(edgeLocation(request)).toEqual({ ip: "192.0.2.8", country: "DE", continent: "EU", asn: 3320, latitude: 52.5, longitude: 13.4 });
  });

  it("Should treat a malformed CF-Connecting-IP as unknown", () => {
    expect(edgeLocation(edgeRequest({ "CF-Connecting-IP": "not-an-address" })).ip).toBeNull();
  });
});

describe("locateClient", () => {
  it("Should apply every X-Frontdoor-Client-* header outside production", () => {
    expect(locateClient(edgeRequest(overrideHeaders, { country: "DE" }), DEVELOPMENT).location).toEqual({
      ip: "2001:db8::7",
      country: "JP",
      continent: "AS",
      asn: 64500,
      latitude: 35.7,
      longitude: 139.7,
    });
  });

  it("Should ignore every X-Frontdoor-Client-* header in production", () => {
    const request = edgeRequest({ ...overrideHeaders, "CF-Connecting-IP": "192.0.2.8" }, { country: "DE", continent: "EU" });
    expect(locateClient(request, PRODUCTION).location).toEqual({ ip: "192.0.2.8", country: "DE", continent: "EU", asn: null, latitude: null, longitude: null });
  });

  it("Should ignore overrides when no settings are given", () => {
    expect(locateClient(edgeRequest(overrideHeaders)).location.country).toBeNull();
  });

  it("Should drop an invalid header value and name the header", () => {
    const request = edgeRequest({ "X-Frontdoor-Client-Country": "Germany", "X-Frontdoor-Client-Lat": "91", "X-Frontdoor-Client-Asn": "-1" }, { country: "FR" });
    const { location, ignored } = locateClient(request, DEVELOPMENT);
    expect([location.country, location.latitude, location.asn, ignored]).toEqual([
      "FR",
      null,
      null,
      ["X-Frontdoor-Client-Country", "X-Frontdoor-Client-Asn", "X-Frontdoor-Client-Lat"],
    ]);
  });

  it("Should apply the configured default location, with headers taking precedence", () => {
    const settings = { production: false, devClient: { country: "BR", continent: "SA" } };
    expect(locateClient(edgeRequest({ "X-Frontdoor-Client-Country": "AR" }), settings).location).toMatchObject({ country: "AR", continent: "SA" });
  });
});

describe("DEV_CLIENT_LOCATION", () => {
  it("Should parse a JSON object of location fields", () => {
    expect(parseDevClient('{"country":"de","asn":64500,"latitude":50.1,"ip":"192.0.2.1"}')).toEqual({ country: "DE", asn: 64500, latitude: 50.1, ip: "192.0.2.1" });
  });

  it("Should reject an unknown field", () => {
    expect(() => parseDevClient('{"city":"Berlin"}')).toThrow(/"city"/);
  });

  it("Should reject an invalid value", () => {
    expect(() => parseDevClient('{"continent":"Europe"}')).toThrow(/"continent"/);
  });

  it("Should reject text that is not a JSON object", () => {
    expect(() => parseDevClient("[1]")).toThrow(/JSON object/);
  });

  it("Should be ignored in production, even when invalid", () => {
    expect(settingsFrom({ FRONTDOOR_ENV: "production", DEV_CLIENT_LOCATION: "{oops" } as never).devClient).toBeNull();
  });

  it("Should fail loudly in development when invalid", () => {
    expect(() => settingsFrom({ FRONTDOOR_ENV: "development", DEV_CLIENT_LOCATION: "{oops" } as never)).toThrow(/DEV_CLIENT_LOCATION/);
  });
});
