import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startMirrorServer, type MirrorServer } from "../../scripts/lib/stack/mirror-server";

const BLOB_PATH = "/blobs/sha256/0123";
const BLOB = Buffer.from("0123456789abcdefghij");

let base: string;
let mirror: MirrorServer;

/** Sends a request with the path exactly as written, so `..` and `%2e` reach the server unnormalised. */
function rawRequest(path: string, method = "GET", headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: mirror.port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "mirror-server-"));
  const root = join(base, "tree");
  await mkdir(join(root, "blobs", "sha256"), { recursive: true });
  await writeFile(join(root, "blobs", "sha256", "0123"), BLOB);
  await writeFile(join(root, "blobs", "sha256", "empty"), "");
  await writeFile(join(base, "secret"), "outside the tree");
  await symlink(join(base, "secret"), join(root, "blobs", "sha256", "escape"));
  mirror = await startMirrorServer({ root });
});

afterAll(async () => {
  await mirror.stop();
  await rm(base, { recursive: true, force: true });
});

afterEach(async () => {
  mirror.restore();
  await mirror.start();
  mirror.clearLog();
});

describe("mirror server", () => {
  it("Should listen on 127.0.0.1 on a port chosen at run time", () => {
    expect(mirror.url).toBe(`http://127.0.0.1:${mirror.port}`);
    expect(mirror.port).toBeGreaterThan(0);
  });

  it("Should serve a file's exact bytes as application/octet-stream with its Content-Length", async () => {
    const response = await rawRequest(BLOB_PATH);
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("application/octet-stream");
    expect(response.headers["content-length"]).toBe(String(BLOB.length));
    expect(response.body.equals(BLOB)).toBe(true);
  });

  it("Should never send Content-Encoding, even to a client that accepts gzip", async () => {
    const response = await rawRequest(BLOB_PATH, "GET", { "Accept-Encoding": "gzip, br" });
    expect(response.headers["content-encoding"]).toBeUndefined();
    expect(response.body.equals(BLOB)).toBe(true);
  });

  it("Should answer HEAD with GET's headers and no body", async () => {
    const get = await rawRequest(BLOB_PATH);
    const head = await rawRequest(BLOB_PATH, "HEAD");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const name of ["content-type", "content-length", "accept-ranges", "content-encoding"]) expect(head.headers[name]).toBe(get.headers[name]);
  });

  it("Should serve an empty file with Content-Length 0", async () => {
    const response = await rawRequest("/blobs/sha256/empty");
    expect(response.status).toBe(200);
    expect(response.headers["content-length"]).toBe("0");
  });

  it("Should answer a single byte range with 206 and Content-Range", async () => {
    const response = await rawRequest(BLOB_PATH, "GET", { Range: "bytes=5-9" });
    expect(response.status).toBe(206);
    expect(response.headers["content-range"]).toBe(`bytes 5-9/${BLOB.length}`);
    expect(response.headers["content-length"]).toBe("5");
    expect(response.body.toString()).toBe("56789");
  });

  it("Should answer an open-ended range with the rest of the file", async () => {
    const response = await rawRequest(BLOB_PATH, "GET", { Range: "bytes=15-" });
    expect(response.status).toBe(206);
    expect(response.body.toString()).toBe("fghij");
  });

  it("Should answer a suffix range with the file's last bytes", async () => {
    const response = await rawRequest(BLOB_PATH, "GET", { Range: "bytes=-3" });
    expect(response.status).toBe(206);
    expect(response.headers["content-range"]).toBe(`bytes 17-19/${BLOB.length}`);
    expect(response.body.toString()).toBe("hij");
  });

  it("Should answer 416 with the size for a range past the end", async () => {
    const response = await rawRequest(BLOB_PATH, "GET", { Range: `bytes=${BLOB.length}-` });
    expect(response.status).toBe(416);
    expect(response.headers["content-range"]).toBe(`bytes */${BLOB.length}`);
  });

  it("Should serve the whole file when asked for several ranges", async () => {
    const response = await rawRequest(BLOB_PATH, "GET", { Range: "bytes=0-1,5-6" });
    expect(response.status).toBe(200);
    expect(response.body.equals(BLOB)).toBe(true);
  });

  it("Should answer 404 for a missing file", async () => {
    expect((await rawRequest("/blobs/sha256/ffff")).status).toBe(404);
  });

  it("Should answer 404 for a directory", async () => {
    expect((await rawRequest("/blobs/sha256")).status).toBe(404);
  });

  it.each(["/../secret", "/blobs/../../secret", "/%2e%2e/secret", "/blobs/%2e%2e%2f%2e%2e%2fsecret", "/blobs/..%5c..%5csecret", "/%00"])(
    "Should not serve anything outside the tree for %s",
    async (path) => {
      const response = await rawRequest(path);
      expect(response.status).toBe(404);
      expect(response.body.toString()).not.toContain("outside the tree");
    },
  );

  it("Should not follow a symbolic link that leaves the tree", async () => {
    expect((await rawRequest("/blobs/sha256/escape")).status).toBe(404);
  });

  it("Should refuse methods other than GET and HEAD with 405", async () => {
    const response = await rawRequest(BLOB_PATH, "PUT");
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe("GET, HEAD");
  });

  it("Should record method, path, status, bytes sent and range of every request", async () => {
    await rawRequest(BLOB_PATH, "GET", { Range: "bytes=0-3" });
    await rawRequest(`${BLOB_PATH}?x=1`, "HEAD");
    await rawRequest("/missing");
    expect(mirror.log().map(({ time, ...entry }) => entry)).toEqual([
      { method: "GET", path: BLOB_PATH, status: 206, bytes: 4, range: "bytes=0-3" },
      { method: "HEAD", path: BLOB_PATH, status: 200, bytes: 0, range: null },
      { method: "GET", path: "/missing", status: 404, bytes: 10, range: null },
    ]);
  });

  it("Should append its log to a file as JSON lines", async () => {
    await rawRequest(BLOB_PATH);
    const file = join(base, "access.log");
    await mirror.appendLogTo(file);
    await mirror.appendLogTo(file);
    const lines = (await readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ method: "GET", path: BLOB_PATH, status: 200, bytes: BLOB.length });
  });

  it("Should serve tampered bytes for a tampered path", async () => {
    mirror.tamper(BLOB_PATH, Buffer.from("evil"));
    const response = await rawRequest(BLOB_PATH);
    expect(response.headers["content-length"]).toBe("4");
    expect(response.body.toString()).toBe("evil");
  });

  it("Should answer 404 for a hidden path that exists on disk", async () => {
    mirror.hide(BLOB_PATH);
    expect((await rawRequest(BLOB_PATH)).status).toBe(404);
  });

  it("Should serve the file again once restored", async () => {
    mirror.hide(BLOB_PATH);
    mirror.restore(BLOB_PATH);
    expect((await rawRequest(BLOB_PATH)).body.equals(BLOB)).toBe(true);
  });

  it("Should refuse connections while stopped", async () => {
    await mirror.stop();
    expect(mirror.running).toBe(false);
    await expect(rawRequest(BLOB_PATH)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("Should serve again on the same port after stop and start", async () => {
    const port = mirror.port;
    await mirror.stop();
    await mirror.start();
    expect(mirror.port).toBe(port);
    expect((await rawRequest(BLOB_PATH)).status).toBe(200);
  });
});
