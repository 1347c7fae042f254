import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runHey } from "../../../scripts/lib/bench/hey";
import { parseWrkOutput, runWrkPulls } from "../../../scripts/lib/bench/wrk";

/** What the bench's load generators sent: one `[User-Agent, path]` per request, and the headers of the first. */
interface Seen {
  asks: Array<[agent: string, path: string]>;
  firstHeaders: Record<string, string | string[] | undefined> | null;
}

let server: Server;
let origin: string;
let dir: string;
const seen: Seen = { asks: [], firstHeaders: null };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "load-generators-"));
  // Blobs /a and /b redirect; /c is missing, so the tally has two statuses to count.
  server = createServer((request, response) => {
    seen.asks.push([request.headers["user-agent"] ?? "", request.url ?? ""]);
    seen.firstHeaders ??= request.headers;
    if (request.url === "/c") response.writeHead(404, { "Content-Length": "0" }).end();
    else if (request.url === "/followed") response.writeHead(200, { "Content-Length": "0" }).end();
    else response.writeHead(307, { Location: `${origin}/followed`, "Content-Length": "0" }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe("wrk shaped like pulls", () => {
  it("Should have every client ask each path once, in a User-Agent of its own, and tally the statuses", async () => {
    seen.asks.length = 0;
    seen.firstHeaders = null;
    const paths = ["/a", "/b", "/c"];
    const run = await runWrkPulls(origin, { headers: { "CF-Connecting-IP": "203.0.113.7", "User-Agent": "ignored/1" }, seconds: 1, concurrency: 4 }, { scriptFile: join(dir, "pulls.lua"), agentPrefix: "test-pull/1", paths });

    const byAgent = new Map<string, string[]>();
    for (const [agent, path] of seen.asks) byAgent.set(agent, [...(byAgent.get(agent) ?? []), path]);
    expect(byAgent.size).toBeGreaterThan(10);
    for (const [agent, asked] of byAgent) {
      expect(agent).toMatch(/^test-pull\/1\/1-\d+$/);
      // Each path once; only the clients the run's end cut short asked fewer.
      expect(new Set(asked).size).toBe(asked.length);
    }
    const complete = [...byAgent.values()].filter((asked) => asked.length === paths.length);
    expect(complete.length).toBeGreaterThanOrEqual(byAgent.size - 4);
    expect(seen.firstHeaders?.["cf-connecting-ip"]).toBe("203.0.113.7");

    expect([...run.statuses.keys()].sort()).toEqual([307, 404]);
    expect(run.statuses.get(307)! / run.statuses.get(404)!).toBeCloseTo(2, 1);
    expect(seen.asks.some(([, path]) => path === "/followed")).toBe(false);
    // wrk counts the answers it got; the server may have seen the few requests still in flight at the end.
    expect(run.requests).toBeLessThanOrEqual(seen.asks.length);
    expect(run.requests).toBeGreaterThan(seen.asks.length - 8);
    expect(run.errors).toBe(0);
    expect(run.perSecond).toBeGreaterThan(0);
    expect(run.p50Ms).toBeLessThanOrEqual(run.p99Ms);
  });

  it("Should refuse output that carries no summary of its script", () => {
    expect(() => parseWrkOutput("Running 1s test @ http://127.0.0.1:1/\n  1 threads and 1 connections\n")).toThrow(/no summary/);
  });
});

describe("hey", () => {
  it("Should count answers by status and follow no redirect", async () => {
    const run = await runHey({ url: `${origin}/a`, headers: { "User-Agent": "bench/1" }, seconds: 0.5, concurrency: 2 });
    expect([...run.statuses.keys()]).toEqual([307]);
    expect(run.requests).toBe(run.statuses.get(307));
    expect(run.requests).toBeGreaterThan(10);
    // hey sends its own User-Agent whatever it is given: one client, which is what the come-back targets need.
    const agents = new Set(seen.asks.filter(([, path]) => path === "/a").map(([agent]) => agent));
    expect([...agents].filter((agent) => agent.startsWith("hey/"))).toHaveLength(1);
    expect(seen.asks.some(([, path]) => path === "/followed")).toBe(false);
    expect(run.errors).toBe(0);
  });
});
