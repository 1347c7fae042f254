import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { MAX_REPORTED_ISSUES, MirrorConfigError, parseMirrorConfig } from "../../../scripts/lib/publish/mirrors-config";

const EXAMPLE = new URL("../../../mirrors.example.toml", import.meta.url);

const MINIMAL = `[origin]
base_url = "https://origin.example.org/tree"

[[mirror]]
id = "one"
base_url = "https://one.example.net/oci"
country = "DE"
continent = "EU"
bandwidth = 1

[[mirror]]
id = "two"
base_url = "https://two.example.net/oci"
country = "FR"
continent = "EU"
bandwidth = 2
`;

/** MINIMAL with one line of the second mirror replaced or added; that mirror's table starts on line 11. */
function withSecondMirrorLine(line: string): string {
  const lines = MINIMAL.trimEnd().split("\n");
  const key = line.split("=")[0]!.trim();
  const at = lines.findIndex((text, i) => i >= 10 && text.startsWith(`${key} =`));
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  return `${lines.join("\n")}\n`;
}

async function configError(text: string): Promise<MirrorConfigError> {
  const error = await parseMirrorConfig(text, "m.toml").catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(MirrorConfigError);
  return error as MirrorConfigError;
}

describe("contact and sponsor fields", () => {
  it("Should carry contact, sponsor and their flags into the mirror's about", async () => {
    // The second mirror's table is the file's last, so lines appended to MINIMAL belong to it.
    const text = `${MINIMAL}contact = "mirror-admin@two.example.net"\nsponsor = "Two University"\nsponsor_url = "https://two.example.edu/"\npublic_sponsor = true\n`;
    const table = await parseMirrorConfig(text);
    expect(table.mirrors[1]!.about).toEqual({
      contact: "mirror-admin@two.example.net",
      sponsor: "Two University",
      sponsorUrl: "https://two.example.edu/",
      publicContact: false,
      publicSponsor: true,
    });
    expect(table.mirrors[0]!.about).toBeUndefined();
  });

  it.each([
    ['contact = "not an address"', "must be an e-mail address or an http(s) URL"],
    ['contact = "ftp://two.example.net/"', "must be an e-mail address or an http(s) URL"],
    ['sponsor_url = "javascript:alert(1)"', "must be an absolute http(s) URL"],
    ['sponsor = "two\\nlines"', "must not hold control characters"],
    ['sponsor = "Acme \\u202Eevil"', "must not hold control characters"],
    ['contact = "ops\\u0000@two.example.net"', "must not hold control characters"],
    ["public_contact = true", "public_contact needs a contact"],
    ["public_sponsor = true", "public_sponsor needs a sponsor"],
  ])("Should refuse %s with its line", async (line, message) => {
    const error = await configError(withSecondMirrorLine(line));
    expect(error.message).toContain(message);
    expect(error.message).toMatch(/^m\.toml:1[1-9]: /);
  });
});

describe("parseMirrorConfig", () => {
  it("Should load every mirror of mirrors.example.toml", async () => {
    const table = await parseMirrorConfig(await readFile(EXAMPLE, "utf8"));
    expect(table.mirrors.map((mirror) => mirror.id)).toEqual(["fra-1", "us-east", "campus", "de-partial"]);
  });

  it("Should carry every field of a full entry into the table", async () => {
    const table = await parseMirrorConfig(await readFile(EXAMPLE, "utf8"));
    expect(table.mirrors[0]).toEqual({
      id: "fra-1",
      baseUrl: "https://mirror.example.net/oci",
      country: "DE",
      continent: "EU",
      latitude: 50.11,
      longitude: 8.68,
      asns: [64500, 64501],
      netblocks: ["192.0.2.0/24", "2001:db8::/32"],
      bandwidth: 10,
      private: false,
      enabled: true,
      about: {
        contact: "mirror-admin@example.net",
        sponsor: "Example University Computing Centre",
        sponsorUrl: "https://www.example.edu/",
        publicContact: false,
        publicSponsor: true,
      },
    });
  });

  it("Should give omitted optional fields their defaults", async () => {
    const { mirrors } = await parseMirrorConfig(MINIMAL);
    expect(mirrors[0]).toMatchObject({ asns: [], netblocks: [], private: false, enabled: true });
    expect(mirrors[0]).not.toHaveProperty("latitude");
  });

  it("Should strip the trailing slash of a base URL", async () => {
    const { mirrors } = await parseMirrorConfig(withSecondMirrorLine('base_url = "https://two.example.net/oci//"'));
    expect(mirrors[1]!.baseUrl).toBe("https://two.example.net/oci");
  });

  it("Should store country codes upper case", async () => {
    const { mirrors } = await parseMirrorConfig(withSecondMirrorLine('country = "fr"'));
    expect(mirrors[1]!.country).toBe("FR");
  });

  it("Should read the origin", async () => {
    expect((await parseMirrorConfig(MINIMAL)).origin).toEqual({ baseUrl: "https://origin.example.org/tree" });
  });

  it("Should allow a file without an origin", async () => {
    expect((await parseMirrorConfig(MINIMAL.replace('[origin]\nbase_url = "https://origin.example.org/tree"\n', ""))).origin).toBeNull();
  });

  it("Should keep the version while the content is the same", async () => {
    const [a, b] = await Promise.all([parseMirrorConfig(MINIMAL), parseMirrorConfig(`# a comment\n${MINIMAL}`)]);
    expect(a.version).toBe(b.version);
  });

  it("Should change the version when the content changes", async () => {
    const [a, b] = await Promise.all([parseMirrorConfig(MINIMAL), parseMirrorConfig(withSecondMirrorLine("bandwidth = 3"))]);
    expect(a.version).not.toBe(b.version);
  });

  it("Should name the line of a TOML syntax error", async () => {
    const error = await configError(MINIMAL.replace('id = "two"', 'id = "two'));
    expect(error.issues[0]!.line).toBe(12);
    expect(error.message).toMatch(/^m\.toml:12: TOML syntax error/);
  });

  it("Should name the line of an invalid netblock in the second mirror", async () => {
    const error = await configError(withSecondMirrorLine('netblocks = ["10.0.0.0/8", "10.1.2.3/16"]'));
    expect(error.issues).toEqual([{ line: 17, message: expect.stringContaining('mirror[1].netblocks[1]: "10.1.2.3/16" has bits set') }]);
  });

  it("Should refuse an IPv6 netblock with a prefix longer than 128", async () => {
    const error = await configError(withSecondMirrorLine('netblocks = ["2001:db8::/129"]'));
    expect(error.message).toContain("invalid prefix length");
  });

  it("Should name the line of a repeated mirror id", async () => {
    const error = await configError(MINIMAL.replace('id = "two"', 'id = "one"'));
    expect(error.issues).toEqual([{ line: 12, message: 'mirror[1].id: mirror id "one" is used twice' }]);
  });

  it("Should refuse a base URL with credentials", async () => {
    const error = await configError(withSecondMirrorLine('base_url = "https://user:secret@two.example.net/oci"'));
    expect(error.issues[0]).toEqual({ line: 13, message: expect.stringContaining("must not carry credentials") });
  });

  it("Should refuse a base URL with a query", async () => {
    expect((await configError(withSecondMirrorLine('base_url = "https://two.example.net/oci?x=1"'))).message).toContain("must not have a query or fragment");
  });

  it("Should refuse a base URL that is not http or https", async () => {
    expect((await configError(withSecondMirrorLine('base_url = "ftp://two.example.net/oci"'))).message).toContain("must use http or https");
  });

  it("Should refuse base URLs the URL parser would silently repair, naming what is wrong", async () => {
    const refused: [string, string][] = [
      ["http:///two.example.net/oci", "must name a host right after the scheme's //"],
      ["http://two.exa\\nmple.net/oci", "must not contain spaces or control characters"],
      [" https://two.example.net/oci", "must not contain spaces or control characters"],
      ["http://two..example.net/oci", "must name a valid host"],
      ["http://-two-.example.net/oci", "must name a valid host"],
      [`http://${"a".repeat(64)}.example.net/oci`, "must name a valid host"],
      ["http://two.example.net:0/oci", "must not use port 0"],
      ["http://0/oci", "not the unspecified address"],
    ];
    for (const [url, problem] of refused) {
      const error = await configError(withSecondMirrorLine(`base_url = "${url}"`));
      expect(error.issues[0], url).toEqual({ line: 13, message: expect.stringContaining(problem) });
    }
  });

  it("Should accept IP literals, ports and international names, in the parser's form", async () => {
    for (const [url, stored] of [
      ["http://[::1]:8080/oci/", "http://[::1]:8080/oci"],
      ["http://127.0.0.1:9/", "http://127.0.0.1:9"],
      ["https://bücher.example/oci", "https://xn--bcher-kva.example/oci"],
    ]) {
      expect((await parseMirrorConfig(withSecondMirrorLine(`base_url = "${url}"`))).mirrors[1]!.baseUrl).toBe(stored);
    }
  });

  it("Should refuse a base URL that another mirror or the origin already has", async () => {
    const twice = await configError(withSecondMirrorLine('base_url = "https://one.example.net/oci/"'));
    expect(twice.issues).toEqual([{ line: 13, message: expect.stringContaining('is already mirror "one"\'s') }]);
    const origin = await configError(withSecondMirrorLine('base_url = "https://origin.example.org/tree"'));
    expect(origin.issues).toEqual([{ line: 13, message: expect.stringContaining("is already the origin's") }]);
  });

  it("Should name the first hundred problems of a file with thousands, and count the rest", async () => {
    const tables = Array.from({ length: 20_000 }, (_, i) => `[[mirror]]\nid = "m${i}"\nbase_url = "https://m${i}.example.net/oci"\ncountry = "DE"\ncontinent = "EU"\nbandwidth = 1\ncolour = 1\n`);
    const error = await configError(tables.join(""));
    expect(error.issues).toHaveLength(MAX_REPORTED_ISSUES + 1);
    expect(error.issues[0]).toEqual({ line: 7, message: 'mirror[0]: Unrecognized key: "colour"' });
    expect(error.issues.at(-1)).toEqual({ line: null, message: `and ${20_000 - MAX_REPORTED_ISSUES} more problems after these` });
  });

  it("Should refuse a bandwidth of zero", async () => {
    const error = await configError(withSecondMirrorLine("bandwidth = 0"));
    expect(error.issues[0]!.line).toBe(16);
  });

  it("Should refuse an unknown continent", async () => {
    expect((await configError(withSecondMirrorLine('continent = "XX"'))).issues[0]!.line).toBe(15);
  });

  it("Should refuse a latitude without a longitude", async () => {
    expect((await configError(withSecondMirrorLine("latitude = 48.8"))).message).toContain("latitude and longitude go together");
  });

  it("Should name the line of an unknown key", async () => {
    const error = await configError(withSecondMirrorLine('colour = "red"'));
    expect(error.issues).toEqual([{ line: 17, message: expect.stringContaining('"colour"') }]);
  });

  it("Should refuse the reserved id origin", async () => {
    expect((await configError(MINIMAL.replace('id = "two"', 'id = "origin"'))).message).toContain("reserved");
  });

  it("Should report every problem of the file at once", async () => {
    const error = await configError(withSecondMirrorLine("bandwidth = -1").replace('country = "DE"', 'country = "Germany"'));
    expect(error.issues.map((issue) => issue.line)).toEqual([7, 16]);
  });

  it("Should name the line of an unknown quoted key holding a regular-expression group", async () => {
    const error = await configError(withSecondMirrorLine('"a(" = 1'));
    expect(error.issues).toEqual([{ line: 17, message: expect.stringContaining('"a("') }]);
  });

  it("Should name the line of an unknown quoted key holding a bracket", async () => {
    const error = await configError(withSecondMirrorLine('"b[" = 2'));
    expect(error.issues).toEqual([{ line: 17, message: expect.stringContaining('"b["') }]);
  });

  it("Should name the line of an unknown top-level quoted key holding a regular-expression group", async () => {
    const error = await configError(`"a(" = 1\n${MINIMAL}`);
    expect(error.issues).toEqual([{ line: 1, message: expect.stringContaining('"a("') }]);
  });

  it("Should refuse an empty file", async () => {
    expect((await configError("")).message).toContain("no [origin] and no enabled [[mirror]]");
  });

  it("Should refuse a file whose only mirrors are disabled and that has no origin", async () => {
    const text = MINIMAL.replace('[origin]\nbase_url = "https://origin.example.org/tree"\n', "").replace(/bandwidth = (\d)/g, "bandwidth = $1\nenabled = false");
    expect((await configError(text)).message).toContain("no [origin] and no enabled [[mirror]]");
  });

  it("Should accept a file with an origin and no mirrors", async () => {
    const table = await parseMirrorConfig('[origin]\nbase_url = "https://origin.example.org/tree"\n');
    expect([table.origin?.baseUrl, table.mirrors]).toEqual(["https://origin.example.org/tree", []]);
  });

  describe("values a real mirror cannot have", () => {
    it.each([
      ['country = "ZZ"', "must be an ISO 3166-1 alpha-2 country code"],
      ['country = "XX"', "must be an ISO 3166-1 alpha-2 country code"],
      ["bandwidth = 1e308", "must be at most 1,000,000"],
      ["bandwidth = 0.001", "must be at least 0.01"],
    ])("Should refuse %s", async (line, message) => {
      const error = await configError(withSecondMirrorLine(line));
      expect(error.message).toContain(message);
      expect(error.message).toMatch(/m\.toml:1[1-9]/);
    });

    it.each(["0.0.0.0/0", "::/0", "::ffff:0.0.0.0/96"])("Should refuse a private mirror that claims every address (%s)", async (block) => {
      const error = await configError(withSecondMirrorLine(`private = true\nnetblocks = ["10.0.0.0/8", "${block}"]`));
      expect(error.message).toContain("is every address: a private mirror serves only its own networks");
    });

    it("Should accept a lower-case country code and store it upper-case", async () => {
      const config = await parseMirrorConfig(withSecondMirrorLine('country = "fr"'), "m.toml");
      expect(config.mirrors[1]!.country).toBe("FR");
    });
  });
});
