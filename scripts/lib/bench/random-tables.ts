import { UNCHECKED } from "../../../src/crawl/health";
import type { ClientLocation } from "../../../src/mirrors/select";
import type { CrawlState, Mirror, MirrorTable } from "../../../src/mirrors/types";

/**
 * Random but realistic mirror tables and clients for the benches: heavy-tailed
 * countries, netblocks, ASNs, and a share of private, disabled, stale, down
 * and unchecked mirrors (docs/selection.md, "Measurements").
 */

/** Country, continent, rough centre, and a share of the world's mirrors (heavy-tailed, as in real mirror networks). */
const COUNTRIES: Array<[string, string, number, number, number]> = [
  ["US", "NA", 39, -98, 30], ["DE", "EU", 51, 10, 14], ["FR", "EU", 46, 2, 6], ["GB", "EU", 54, -2, 5],
  ["NL", "EU", 52, 5, 5], ["JP", "AS", 36, 138, 5], ["CN", "AS", 35, 103, 5], ["CA", "NA", 56, -106, 3],
  ["SE", "EU", 62, 15, 3], ["BR", "SA", -10, -55, 3], ["AU", "OC", -25, 134, 3], ["IN", "AS", 21, 78, 2],
  ["KR", "AS", 36, 128, 2], ["CH", "EU", 47, 8, 2], ["PL", "EU", 52, 19, 2], ["IT", "EU", 42, 12, 2],
  ["RU", "EU", 60, 90, 2], ["SG", "AS", 1.3, 103.8, 1], ["ZA", "AF", -29, 24, 1], ["AR", "SA", -34, -64, 1],
  ["FI", "EU", 64, 26, 1], ["CZ", "EU", 49.8, 15.5, 1], ["TW", "AS", 23.7, 121, 1], ["NZ", "OC", -41, 174, 0.5],
  ["KE", "AF", 0, 38, 0.3], ["CL", "SA", -30, -71, 0.5], ["MX", "NA", 23, -102, 0.5], ["IS", "EU", 65, -18, 0.1],
  ["NG", "AF", 9, 8, 0.2], ["VN", "AS", 16, 108, 0.4], ["EG", "AF", 27, 30, 0.2], ["PE", "SA", -10, -76, 0.2],
];

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same tables. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickCountry(random: () => number): [string, string, number, number, number] {
  const total = COUNTRIES.reduce((sum, country) => sum + country[4], 0);
  let roll = random() * total;
  for (const country of COUNTRIES) {
    roll -= country[4];
    if (roll <= 0) return country;
  }
  return COUNTRIES[0]!;
}

function asnOf(country: string, random: () => number): number {
  return 64512 + COUNTRIES.findIndex((entry) => entry[0] === country) * 20 + Math.floor(random() * 20);
}

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}

export function randomTable(size: number, random: () => number): { table: MirrorTable; crawl: CrawlState } {
  const mirrors: Mirror[] = [];
  const crawl: CrawlState = {};
  for (let i = 0; i < size; i++) {
    const [country, continent, latitude, longitude] = pickCountry(random);
    const netblocks: string[] = [];
    if (random() < 0.3) netblocks.push(`${ipv4Text((Math.floor(random() * 0xffffff) << 8) >>> 0)}/${16 + Math.floor(random() * 9)}`);
    if (random() < 0.15) netblocks.push(`2001:db8:${Math.floor(random() * 0xffff).toString(16)}::/${32 + Math.floor(random() * 17)}`);
    const id = `mirror-${i}`;
    mirrors.push({
      id,
      baseUrl: `https://${id}.example.net/containers`,
      country,
      continent,
      ...(random() < 0.9 ? { latitude: latitude + (random() - 0.5) * 8, longitude: longitude + (random() - 0.5) * 8 } : {}),
      asns: random() < 0.6 ? [asnOf(country, random)] : [],
      netblocks,
      bandwidth: [100, 1000, 1000, 10000][Math.floor(random() * 4)]!,
      private: random() < 0.03,
      enabled: random() > 0.05,
    });
    const roll = random();
    const generation = roll < 0.02 ? -1 : roll < 0.1 ? 40 : 42;
    crawl[id] = { ...UNCHECKED, announced: generation, verified: generation, down: roll > 0.97, responseTime: 20 };
  }
  return { table: { version: `bench-${size}`, origin: { baseUrl: "https://origin.example.org/tree" }, mirrors }, crawl };
}

export type ClientKind = "located" | "netblock" | "ipv6" | "unlocated";

export function randomClient(table: MirrorTable, random: () => number): { kind: ClientKind; client: ClientLocation } {
  const [country, continent, latitude, longitude] = pickCountry(random);
  const roll = random();
  const located = { country, continent, asn: asnOf(country, random), latitude: latitude + (random() - 0.5) * 8, longitude: longitude + (random() - 0.5) * 8 };
  if (roll < 0.1) {
    const mirror = table.mirrors[Math.floor(random() * table.mirrors.length)]!;
    const block = mirror.netblocks.find((text) => !text.includes(":"));
    const ip = block === undefined ? ipv4Text(Math.floor(random() * 0xffffffff)) : block.split("/")[0]!.replace(/\.0$/, ".7");
    return { kind: "netblock", client: { ip, ...located } };
  }
  if (roll < 0.25) {
    const ip = `2001:db8:${Math.floor(random() * 0xffff).toString(16)}:${Math.floor(random() * 0xffff).toString(16)}::1`;
    return { kind: "ipv6", client: { ip, ...located } };
  }
  const ip = ipv4Text(Math.floor(random() * 0xffffffff));
  if (roll < 0.3) return { kind: "unlocated", client: { ip, country: null, continent: null, asn: null, latitude: null, longitude: null } };
  return { kind: "located", client: { ip, ...located } };
}
