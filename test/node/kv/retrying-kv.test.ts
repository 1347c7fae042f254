import { describe, expect, it } from "vitest";
import { CliError, EXIT } from "../../../scripts/lib/cli/error";
import { isTransientKvError, LOCAL_KV_RETRY_DELAYS_MS, LocalKvBusyError, retryingKv } from "../../../scripts/lib/kv/retrying-kv";

const BUSY = "KV PUT failed: 500 Internal Server Error";
const PERSIST_DIR = "/srv/state";

/** A namespace whose every call is answered by `answer`, which sees how many calls came before; it records the calls. */
function fakeNamespace(answer: (call: number, method: string, args: unknown[]) => unknown) {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const method =
    (name: string) =>
    async (...args: unknown[]) => {
      calls.push({ method: name, args });
      return answer(calls.length - 1, name, args);
    };
  const kv = { get: method("get"), getWithMetadata: method("getWithMetadata"), put: method("put"), delete: method("delete"), list: method("list") };
  return { kv: kv as unknown as KVNamespace, calls };
}

/** The wrapper under test with a sleep that only records its delays. */
function wrap(kv: KVNamespace) {
  const slept: number[] = [];
  const sleep = async (ms: number) => void slept.push(ms);
  return { retrying: retryingKv(kv, { persistDir: PERSIST_DIR, sleep }), slept };
}

describe("isTransientKvError", () => {
  it.each([
    ["KV PUT failed: 500 Internal Server Error", true],
    ["KV GET failed: 500 Internal Server Error", true],
    ["KV DELETE failed: 503 Service Unavailable", true],
    ["database is locked: SQLITE_BUSY (extended: SQLITE_BUSY_SNAPSHOT)", true],
    ["KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.", false],
    ["KV GET failed: 414 UTF-8 encoded length of 600 exceeds key length limit of 512.", false],
    [`Unexpected token 'v', "v" is not valid JSON`, false],
  ])("Should take %j as transient: %s", (message, transient) => {
    expect(isTransientKvError(new Error(message))).toBe(transient);
  });

  it("Should not take a thrown non-Error as transient", () => {
    expect(isTransientKvError(BUSY)).toBe(false);
  });
});

describe("retryingKv", () => {
  it("Should retry a transient failure with growing delays and return the call's answer once it succeeds", async () => {
    const { kv, calls } = fakeNamespace((call) => {
      if (call < 2) throw new Error("KV GET failed: 500 Internal Server Error");
      return "value";
    });
    const { retrying, slept } = wrap(kv);
    await expect(retrying.get("tag:demo/hello:latest", "text")).resolves.toBe("value");
    expect(calls).toEqual(Array(3).fill({ method: "get", args: ["tag:demo/hello:latest", "text"] }));
    expect(slept).toEqual(LOCAL_KV_RETRY_DELAYS_MS.slice(0, 2));
  });

  it("Should retry each of the methods the publisher calls, with their arguments", async () => {
    const { kv, calls } = fakeNamespace((call) => {
      if (call % 2 === 0) throw new Error(BUSY);
      return null;
    });
    const { retrying } = wrap(kv);
    await retrying.put("a", "1", { metadata: { h: "x" } });
    await retrying.delete("b");
    await retrying.list({ prefix: "tag:" });
    await retrying.getWithMetadata("mirrors", "json");
    expect(calls.map((call) => call.method)).toEqual(["put", "put", "delete", "delete", "list", "list", "getWithMetadata", "getWithMetadata"]);
    expect(calls[1]!.args).toEqual(["a", "1", { metadata: { h: "x" } }]);
  });

  it("Should throw a non-transient failure at once, without retrying", async () => {
    const tooLarge = new Error("KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.");
    const { kv, calls } = fakeNamespace(() => {
      throw tooLarge;
    });
    const { retrying, slept } = wrap(kv);
    await expect(retrying.put("blob", "x")).rejects.toBe(tooLarge);
    expect(calls).toHaveLength(1);
    expect(slept).toEqual([]);
  });

  it("Should give up after six attempts within ten seconds of waiting, naming the persist dir and that a rerun completes the publication", async () => {
    const { kv, calls } = fakeNamespace(() => {
      throw new Error(BUSY);
    });
    const { retrying, slept } = wrap(kv);
    const failure = await retrying.put("publication", "{}").then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(LocalKvBusyError);
    expect(failure).toBeInstanceOf(CliError);
    expect((failure as CliError).exitCode).toBe(EXIT.failed);
    expect((failure as Error).message).toMatch(/^KV PUT failed: 500 Internal Server Error, still after 6 attempts over 7\.8 s: /);
    expect((failure as Error).message).toContain(`another process may be using the persist dir ${PERSIST_DIR}`);
    expect((failure as Error).message).toContain("a rerun completes a publication");
    expect(calls).toHaveLength(6);
    expect(slept).toEqual(LOCAL_KV_RETRY_DELAYS_MS);
    expect(slept.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(10_000);
  });
});
