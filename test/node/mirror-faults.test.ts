import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fault, formatFault, parseFault, parseFaultAssignments, FAULT_NAMES } from "../../scripts/lib/stack/faults";
import { startMirrorServer, type MirrorServer } from "../../scripts/lib/stack/mirror-server";

/** First published in generation 1, 20 bytes. */
const SMALL_PATH = "/blobs/sha256/00aa";
const SMALL = Buffer.from("0123456789abcdefghij");
/** First published in generation 2, the marker's: 4 KiB. */
const LARGE_PATH = "/blobs/sha256/00bb";
const LARGE = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff));
const MARKER = `${JSON.stringify({ generation: 2, published: "2026-01-02T00:00:00Z" })}\n`;

let base: string;
let mirror: MirrorServer;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Body `data` events: how many pieces the body came in. */
  pieces: number;
  /** True when the body ended as `Content-Length` said; false when the connection was dropped first. */
  complete: boolean;
}

/** One request on a fresh connection; rejects when the connection fails before any answer. */
function send(path: string, method = "GET", headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: mirror.port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", () => undefined);
      res.on("close", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), pieces: chunks.length, complete: res.complete }));
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "mirror-faults-"));
  const root = join(base, "tree");
  await mkdir(join(root, "blobs", "sha256"), { recursive: true });
  await mkdir(join(root, "frontdoor"), { recursive: true });
  await writeFile(join(root, "blobs", "sha256", "00aa"), SMALL);
  await writeFile(join(root, "blobs", "sha256", "00bb"), LARGE);
  await writeFile(join(root, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [] }));
  await writeFile(join(root, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(join(root, "frontdoor", "generation"), MARKER);
  await writeFile(join(root, "frontdoor", "first-seen.json"), JSON.stringify({ "sha256:00aa": 1, "sha256:00bb": 2 }));
  mirror = await startMirrorServer({ root });
});

afterAll(async () => {
  await mirror.stop();
  await rm(base, { recursive: true, force: true });
});

afterEach(async () => {
  await mirror.setFault(fault("none"));
  await mirror.start();
  mirror.clearLog();
});

describe("fault names", () => {
  it("Should read back every fault it formats", () => {
    for (const name of FAULT_NAMES) expect(parseFault(formatFault(fault(name)))).toEqual(fault(name));
  });

  it("Should read a parameter for flapping, 404-some and slow", () => {
    expect(parseFault("flapping:3000")).toEqual({ name: "flapping", periodMs: 3000 });
    expect(parseFault("404-some:65536")).toEqual({ name: "404-some", largerThan: 65536 });
    expect(parseFault("slow:2000")).toEqual({ name: "slow", bytesPerSecond: 2000 });
  });

  it.each(["cut", "refused:5", "slow:0", "slow:fast", ""])("Should refuse %j", (text) => {
    expect(() => parseFault(text)).toThrow();
  });

  it("Should read mirror assignments and refuse an unknown mirror", () => {
    expect(parseFaultAssignments("de-fra=cut-always, us-iad=slow:5000", ["de-fra", "us-iad"])).toEqual(
      new Map([
        ["de-fra", { name: "cut-always" }],
        ["us-iad", { name: "slow", bytesPerSecond: 5000 }],
      ]),
    );
    expect(() => parseFaultAssignments("xx-yyy=refused", ["de-fra"])).toThrow(/no local mirror "xx-yyy"/);
  });
});

describe("mirror faults on the wire", () => {
  it("Should refuse connections under refused and serve again once cleared", async () => {
    await mirror.setFault(fault("refused"));
    expect(mirror.refusing).toBe(true);
    await expect(send(SMALL_PATH)).rejects.toThrow(/ECONNREFUSED/);
    await mirror.setFault(fault("none"));
    expect((await send(SMALL_PATH)).body.equals(SMALL)).toBe(true);
  });

  it("Should start refusing under refused, with a port of its own", async () => {
    const refusing = await startMirrorServer({ root: mirror.root, fault: fault("refused") });
    try {
      expect(refusing.port).toBeGreaterThan(0);
      expect(refusing.refusing).toBe(true);
      await refusing.setFault(fault("none"));
      expect(refusing.refusing).toBe(false);
    } finally {
      await refusing.stop();
    }
  });

  it("Should stay stopped when a fault is cleared after stop()", async () => {
    await mirror.stop();
    await mirror.setFault(fault("none"));
    await expect(send(SMALL_PATH)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("Should refuse under flapping in the first two slices of three and serve in the third", async () => {
    await mirror.setFault(fault("flapping", 1000));
    await expect(send(SMALL_PATH)).rejects.toThrow(/ECONNREFUSED/);
    await sleep(2500);
    expect(mirror.refusing).toBe(false);
    expect((await send(SMALL_PATH)).status).toBe(200);
    await sleep(1000);
    expect(mirror.refusing).toBe(true);
    await expect(send(SMALL_PATH)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("Should cut the first GET of each blob half-way under cut-once, and serve later GETs whole", async () => {
    await mirror.setFault(fault("cut-once"));
    const first = await send(LARGE_PATH);
    expect(first).toMatchObject({ status: 200, complete: false });
    expect(first.headers["content-length"]).toBe(String(LARGE.length));
    expect(first.body.equals(LARGE.subarray(0, LARGE.length / 2))).toBe(true);
    const again = await send(LARGE_PATH);
    expect(again.complete).toBe(true);
    expect(again.body.equals(LARGE)).toBe(true);
    expect((await send(SMALL_PATH)).complete).toBe(false);
  });

  it("Should cut every blob GET half-way under cut-always, ranges included", async () => {
    await mirror.setFault(fault("cut-always"));
    for (let attempt = 0; attempt < 2; attempt++) expect((await send(LARGE_PATH)).complete).toBe(false);
    const ranged = await send(LARGE_PATH, "GET", { Range: "bytes=1000-1999" });
    expect(ranged).toMatchObject({ status: 206, complete: false });
    expect(ranged.body.equals(LARGE.subarray(1000, 1500))).toBe(true);
  });

  it("Should serve the marker whole under cut-always", async () => {
    await mirror.setFault(fault("cut-always"));
    const marker = await send("/frontdoor/generation");
    expect(marker.complete).toBe(true);
    expect(marker.body.toString()).toBe(MARKER);
  });

  it("Should answer 404 for blobs larger than the bound under 404-some, GET and HEAD, and serve the small ones", async () => {
    await mirror.setFault(fault("404-some", 1024));
    expect((await send(LARGE_PATH)).status).toBe(404);
    expect((await send(LARGE_PATH, "HEAD")).status).toBe(404);
    expect((await send(SMALL_PATH)).body.equals(SMALL)).toBe(true);
  });

  it("Should answer 404 under 404-older for blobs first published before the marker's generation only", async () => {
    await mirror.setFault(fault("404-older"));
    expect((await send(SMALL_PATH)).status).toBe(404);
    expect((await send(LARGE_PATH)).body.equals(LARGE)).toBe(true);
  });

  it("Should answer 404 under marker-ahead for the blobs of the marker's generation, with the marker served", async () => {
    await mirror.setFault(fault("marker-ahead"));
    expect((await send(LARGE_PATH)).status).toBe(404);
    expect((await send(SMALL_PATH)).body.equals(SMALL)).toBe(true);
    expect((await send("/frontdoor/generation")).body.toString()).toBe(MARKER);
  });

  it("Should serve only the marker, index.json and oci-layout under no-blobs", async () => {
    await mirror.setFault(fault("no-blobs"));
    for (const path of ["/frontdoor/generation", "/index.json", "/oci-layout"]) expect((await send(path)).status, path).toBe(200);
    for (const path of [SMALL_PATH, LARGE_PATH, "/frontdoor/first-seen.json"]) expect((await send(path)).status, path).toBe(404);
  });

  it("Should alter exactly the middle byte under wrong-bytes, keeping the length", async () => {
    await mirror.setFault(fault("wrong-bytes"));
    const answer = await send(LARGE_PATH);
    expect(answer.headers["content-length"]).toBe(String(LARGE.length));
    expect(answer.body.length).toBe(LARGE.length);
    const differing = [...answer.body.keys()].filter((i) => answer.body[i] !== LARGE[i]);
    expect(differing).toEqual([LARGE.length / 2]);
  });

  it("Should leave a range before the middle byte untouched under wrong-bytes", async () => {
    await mirror.setFault(fault("wrong-bytes"));
    const answer = await send(LARGE_PATH, "GET", { Range: "bytes=0-1023" });
    expect(answer.status).toBe(206);
    expect(answer.body.equals(LARGE.subarray(0, 1024))).toBe(true);
  });

  it("Should label blob answers Content-Encoding: gzip on unchanged bytes under gzip-label, GET and HEAD", async () => {
    await mirror.setFault(fault("gzip-label"));
    const get = await send(LARGE_PATH, "GET", { "Accept-Encoding": "identity" });
    expect(get.headers["content-encoding"]).toBe("gzip");
    expect(get.body.equals(LARGE)).toBe(true);
    expect((await send(LARGE_PATH, "HEAD")).headers["content-encoding"]).toBe("gzip");
    expect((await send("/frontdoor/generation")).headers["content-encoding"]).toBeUndefined();
  });

  it("Should answer 500 to blob GETs under 500-on-GET while HEAD answers 200 with the size", async () => {
    await mirror.setFault(fault("500-on-GET"));
    expect((await send(LARGE_PATH)).status).toBe(500);
    const head = await send(LARGE_PATH, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String(LARGE.length));
  });

  it("Should hold a blob GET without headers under hang-on-GET until the fault changes", async () => {
    await mirror.setFault(fault("hang-on-GET"));
    let answered = false;
    const pending = send(LARGE_PATH).then(
      () => (answered = true),
      (error: Error) => error,
    );
    await sleep(300);
    expect(answered).toBe(false);
    await mirror.setFault(fault("none"));
    expect(await pending).toBeInstanceOf(Error);
    expect(answered).toBe(false);
  });

  it("Should answer HEAD at once under hang-on-GET", async () => {
    await mirror.setFault(fault("hang-on-GET"));
    expect((await send(LARGE_PATH, "HEAD")).status).toBe(200);
  });

  it("Should drop a held connection when it stops", async () => {
    await mirror.setFault(fault("hang-on-GET"));
    const pending = send(LARGE_PATH).catch((error: Error) => error);
    await sleep(100);
    await mirror.stop();
    expect(await pending).toBeInstanceOf(Error);
  });

  it("Should send the whole blob in pieces under slow", async () => {
    await mirror.setFault(fault("slow", 10_000));
    const answer = await send(LARGE_PATH);
    expect(answer.complete).toBe(true);
    expect(answer.body.equals(LARGE)).toBe(true);
    expect(answer.pieces).toBeGreaterThanOrEqual(4);
  });

  it("Should name the fault in effect in the access log", async () => {
    await mirror.setFault(fault("500-on-GET"));
    await send(LARGE_PATH, "GET", { "User-Agent": "probe/1" });
    await mirror.setFault(fault("none"));
    await send(LARGE_PATH);
    expect(mirror.log().map(({ fault: name, status, userAgent }) => ({ name, status, userAgent }))).toEqual([
      { name: "500-on-GET", status: 500, userAgent: "probe/1" },
      { name: undefined, status: 200, userAgent: undefined },
    ]);
  });
});
