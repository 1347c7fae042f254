import { reset } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { rangeFirstByte } from "../../../src/http/range";
import { LruMap } from "../../../src/mirrors/lru";
import {
  ABANDONED_FRESH_MS,
  abandon,
  MAX_TURN_MS,
  demoteAbandoned,
  chooseTarget,
  parseAskHistory,
  REPEAT_WINDOW_MS,
  RESUME_WINDOW_MS,
  RetryMemory,
  type AskHistory,
  type AskKey,
  type SharedAskStore,
} from "../../../src/mirrors/retry-memory";
import { askCacheUrl, CacheAskStore } from "../../../src/store/ask-cache";

const RANKED = ["near", "second", "third", "origin"];
const T0 = Date.UTC(2026, 11, 1, 12);
const DIGEST = `sha256:${"ab".repeat(32)}`;

function key(client = "0123456789abcdef0123456789abcdef", digest = DIGEST): AskKey {
  return { client, digest, origin: "http://frontdoor.test" };
}

/** A shared store whose reads never answer, and how many reads it was asked for. */
function neverAnsweringStore(): { hanging: SharedAskStore; reads: () => number } {
  let reads = 0;
  const hanging: SharedAskStore = {
    read: () => {
      reads++;
      return new Promise(() => undefined);
    },
    write: () => Promise.resolve(),
  };
  return { hanging, reads: () => reads };
}

/** Asks `ranked` `count` times, each `gap` ms after the last, threading the memory; the targets' ids. */
function walk(ranked: readonly string[], count: number, options: { resume?: boolean; gap?: number } = {}): string[] {
  let history: AskHistory | null = null;
  const targets: string[] = [];
  for (let ask = 0; ask < count; ask++) {
    const target = chooseTarget(ranked, history, { now: T0 + ask * (options.gap ?? 1000), resume: options.resume ?? false });
    targets.push(ranked[target.index]!);
    history = target.history;
  }
  return targets;
}

describe("chooseTarget", () => {
  it("Should send a first ask to the best entry and remember only that", () => {
    const target = chooseTarget(RANKED, null, { now: T0, resume: false });
    expect(target).toEqual({ index: 0, previous: null, history: { given: ["near"], at: T0 } });
  });

  it("Should send a resume to the next entry, never the one that cut it off", () => {
    const first = chooseTarget(RANKED, null, { now: T0, resume: false });
    const resume = chooseTarget(RANKED, first.history, { now: T0 + 5000, resume: true });
    expect([RANKED[resume.index], resume.previous]).toEqual(["second", "near"]);
  });

  it("Should walk repeated asks down the list to the origin, then round again from the best", () => {
    expect(walk(RANKED, 9)).toEqual(["near", "second", "third", "origin", "near", "second", "third", "origin", "near"]);
  });

  it("Should send a come-back after every entry was given to the one given longest ago", () => {
    const history = { given: ["third", "origin", "near", "second"], at: T0 };
    const target = chooseTarget(RANKED, history, { now: T0 + 1, resume: true });
    expect([RANKED[target.index], target.history.given]).toEqual(["third", ["origin", "near", "second", "third"]]);
  });

  it("Should skip entries already given when the ranked list changed between asks", () => {
    const history = { given: ["near", "gone"], at: T0 };
    const target = chooseTarget(["second", "near", "origin"], history, { now: T0 + 1, resume: false });
    expect([target.index, target.history.given]).toEqual([0, ["near", "gone", "second"]]);
  });

  it("Should send a come-back to a mirror that joined the list before any it already got", () => {
    const history = { given: ["near", "origin"], at: T0 };
    expect(chooseTarget(["near", "joined", "origin"], history, { now: T0 + 1, resume: false }).index).toBe(1);
  });

  it("Should keep answering the only entry when there is one", () => {
    expect(walk(["origin"], 3, { resume: true })).toEqual(["origin", "origin", "origin"]);
  });

  it("Should treat a repeat after the repeat window as a new first ask", () => {
    const history = { given: ["near"], at: T0 };
    expect(chooseTarget(RANKED, history, { now: T0 + REPEAT_WINDOW_MS, resume: false }).index).toBe(1);
    expect(chooseTarget(RANKED, history, { now: T0 + REPEAT_WINDOW_MS + 1, resume: false })).toEqual({
      index: 0,
      previous: null,
      history: { given: ["near"], at: T0 + REPEAT_WINDOW_MS + 1 },
    });
  });

  it("Should still recognise a resume after the repeat window, until the resume window ends", () => {
    const history = { given: ["near"], at: T0 };
    expect(chooseTarget(RANKED, history, { now: T0 + REPEAT_WINDOW_MS + 1, resume: true }).index).toBe(1);
    expect(chooseTarget(RANKED, history, { now: T0 + RESUME_WINDOW_MS + 1, resume: true }).index).toBe(0);
  });

  it("Should measure the window from the latest ask", () => {
    expect(walk(RANKED, 4, { gap: REPEAT_WINDOW_MS - 1 })).toEqual(["near", "second", "third", "origin"]);
  });
});

describe("rangeFirstByte", () => {
  it.each([
    [null, null],
    ["bytes=0-", 0],
    ["bytes=1024-", 1024],
    ["bytes=5-9", 5],
    ["bytes=500-600, 10-20", 10],
    ["bytes=-100", 900],
    ["bytes=-5000", 0],
    ["BYTES = 7-", 7],
    ["items=5-", null],
    ["bytes=x-", null],
    ["bytes=-", null],
    [`bytes=${"9".repeat(30)}-`, null],
  ])("Should read %s against 1000 bytes as %s", (header, expected) => {
    expect(rangeFirstByte(header, 1000)).toBe(expected);
  });
});

describe("LruMap", () => {
  it("Should never hold more than its capacity, forgetting the least recently used first", () => {
    const lru = new LruMap<string, number>(3);
    for (let i = 0; i < 10; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(3);
    lru.get("k7");
    lru.set("k10", 10);
    expect(["k7", "k8", "k9", "k10"].map((k) => lru.has(k))).toEqual([true, false, true, true]);
  });
});

describe("RetryMemory", () => {
  beforeEach(() => reset());

  it("Should hold at most its stated number of entries in the isolate", async () => {
    const memory = new RetryMemory({ capacity: 100 });
    for (let i = 0; i < 1000; i++) await memory.remember(key(i.toString(16).padStart(32, "0")), { given: ["near"], at: T0 });
    expect([memory.size, memory.capacity]).toEqual([100, 100]);
    expect(await memory.recall(key((999).toString(16).padStart(32, "0")))).toEqual({ given: ["near"], at: T0 });
    expect(await memory.recall(key((0).toString(16).padStart(32, "0")))).toBeNull();
  });

  it("Should share entries between two memories through the location's Workers Cache", async () => {
    const first = new RetryMemory({ shared: new CacheAskStore() });
    const second = new RetryMemory({ shared: new CacheAskStore() });
    await first.remember(key(), { given: ["near", "second"], at: T0 });
    expect(await second.recall(key())).toEqual({ given: ["near", "second"], at: T0 });
    expect(await second.recall(key(undefined, `sha256:${"cd".repeat(32)}`))).toBeNull();
  });

  it("Should prefer the copy written by the later ask when the isolate and the location disagree", async () => {
    const shared = new CacheAskStore();
    const stale = new RetryMemory({ shared });
    await stale.remember(key(), { given: ["near"], at: T0 });
    await new RetryMemory({ shared }).remember(key(), { given: ["near", "second"], at: T0 + 10 });
    expect(await stale.recall(key())).toEqual({ given: ["near", "second"], at: T0 + 10 });
  });

  it("Should answer from the isolate when the shared store does not answer within its deadline", async () => {
    const late: Array<Promise<unknown>> = [];
    const hanging: SharedAskStore = { read: () => new Promise(() => undefined), write: () => Promise.resolve() };
    const memory = new RetryMemory({ shared: hanging, sharedReadDeadlineMs: 5 });
    await memory.remember(key(), { given: ["near"], at: T0 });
    expect(await memory.recall(key(), (work) => late.push(work))).toEqual({ given: ["near"], at: T0 });
    expect(late).toHaveLength(1);
  });

  it("Should count a failing shared store as a miss, never as an error", async () => {
    const broken: SharedAskStore = { read: () => Promise.reject(new Error("cache down")), write: () => Promise.reject(new Error("cache down")) };
    const memory = new RetryMemory({ shared: broken });
    await expect(memory.remember(key(), { given: ["near"], at: T0 })).resolves.toBeUndefined();
    expect(await memory.recall(key())).toEqual({ given: ["near"], at: T0 });
  });

  it("Should read a client's abandoned mirrors from the location once per freshness period, and a digest's entry on every ask", async () => {
    let now = T0;
    const reads: string[] = [];
    const counting: SharedAskStore = {
      read: (asked) => {
        reads.push(asked.digest ?? "abandoned");
        return Promise.resolve(null);
      },
      write: () => Promise.resolve(),
    };
    const memory = new RetryMemory({ shared: counting, clock: () => now });
    const abandonedKey: AskKey = { ...key(), digest: null };
    for (let ask = 0; ask < 5; ask++) {
      await memory.recall(key());
      await memory.recall(abandonedKey);
      now += ABANDONED_FRESH_MS / 4;
    }
    expect(reads.filter((read) => read === DIGEST)).toHaveLength(5);
    expect(reads.filter((read) => read === "abandoned")).toHaveLength(2);
  });

  it("Should share one shared read among the asks of an entry that arrive while it is in flight, and read again after it", async () => {
    const answers: Array<(value: unknown) => void> = [];
    const slow: SharedAskStore = { read: () => new Promise((resolve) => answers.push(resolve)), write: () => Promise.resolve() };
    const memory = new RetryMemory({ shared: slow });
    const asks = [memory.recall(key()), memory.recall(key()), memory.recall(key())];
    const other = memory.recall(key(undefined, `sha256:${"cd".repeat(32)}`));
    expect(answers).toHaveLength(2);
    answers[0]!({ given: ["near"], at: T0 });
    answers[1]!(null);
    expect(await Promise.all(asks)).toEqual([0, 1, 2].map(() => ({ given: ["near"], at: T0 })));
    expect(await other).toBeNull();
    const again = memory.recall(key());
    expect(answers).toHaveLength(3);
    answers[2]!({ given: ["near", "second"], at: T0 + 1 });
    expect(await again).toEqual({ given: ["near", "second"], at: T0 + 1 });
  });

  it("Should keep a history the isolate remembered while a shared read was in flight, not the older copy read", async () => {
    const answers: Array<(value: unknown) => void> = [];
    const slow: SharedAskStore = { read: () => new Promise((resolve) => answers.push(resolve)), write: () => Promise.resolve() };
    const memory = new RetryMemory({ shared: slow });
    const ask = memory.recall(key());
    await memory.remember(key(), { given: ["near", "second"], at: T0 + 5 });
    answers[0]!({ given: ["near"], at: T0 });
    expect(await ask).toEqual({ given: ["near", "second"], at: T0 + 5 });
    await expect(memory.recall(key(), undefined, false)).resolves.toEqual({ given: ["near", "second"], at: T0 + 5 });
  });

  it("Should start a new shared read once one missed its deadline", async () => {
    const { hanging, reads } = neverAnsweringStore();
    const memory = new RetryMemory({ shared: hanging, sharedReadDeadlineMs: 5 });
    await Promise.all([memory.recall(key()), memory.recall(key())]);
    expect(reads()).toBe(1);
    await memory.recall(key());
    expect(reads()).toBe(2);
  });

  it("Should never join a shared read older than its deadline, and hold no more of them than its capacity", async () => {
    let now = T0;
    const { hanging, reads } = neverAnsweringStore();
    const memory = new RetryMemory({ capacity: 4, shared: hanging, sharedReadDeadlineMs: 5, clock: () => now });
    const clientOf = (i: number) => i.toString(16).padStart(32, "0");
    // Asks whose requests the runtime ended: nothing drops their reads.
    for (let i = 0; i < 4; i++) void memory.recall(key(clientOf(i)));
    now += 5;
    void memory.recall(key(clientOf(0)));
    expect(reads()).toBe(5);
    for (let i = 4; i < 8; i++) void memory.recall(key(clientOf(i)));
    expect(memory.readsInFlight).toBeLessThanOrEqual(5);
  });

  it("Should see another isolate's abandoned mirrors once its copy is older than the freshness period", async () => {
    let now = T0;
    const shared = new CacheAskStore();
    const first = new RetryMemory({ shared, clock: () => now });
    const second = new RetryMemory({ shared, clock: () => now });
    const abandonedKey: AskKey = { ...key(), digest: null };
    expect(await second.recall(abandonedKey)).toBeNull();
    await first.remember(abandonedKey, { given: ["near"], at: now });
    now += ABANDONED_FRESH_MS;
    expect(await second.recall(abandonedKey)).toEqual({ given: ["near"], at: T0 });
  });

  it("Should keep one shared write of an entry in flight, and write the latest history remembered meanwhile after it", async () => {
    const written: AskHistory[] = [];
    const finish: Array<() => void> = [];
    const slow: SharedAskStore = {
      read: () => Promise.resolve(null),
      write: (_key, history) => {
        written.push(history);
        return new Promise<void>((resolve) => finish.push(resolve));
      },
    };
    const memory = new RetryMemory({ shared: slow });
    const first = memory.remember(key(), { given: ["near"], at: T0 });
    for (let ask = 1; ask <= 3; ask++) await memory.remember(key(), { given: ["near", "second"], at: T0 + ask });
    expect(written).toEqual([{ given: ["near"], at: T0 }]);
    finish.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(written).toEqual([
      { given: ["near"], at: T0 },
      { given: ["near", "second"], at: T0 + 3 },
    ]);
    finish.shift()!();
    await first;
    const third = memory.remember(key(), { given: ["second"], at: T0 + 4 });
    expect(written).toHaveLength(3);
    finish.shift()!();
    await third;
    expect(await memory.recall(key())).toEqual({ given: ["second"], at: T0 + 4 });
  });

  it("Should take over an entry's turn to write once it is older than a request may run", async () => {
    let now = T0;
    const written: AskHistory[] = [];
    const stuck: SharedAskStore = {
      read: () => Promise.resolve(null),
      write: (_key, history) => {
        written.push(history);
        return new Promise<void>(() => undefined);
      },
    };
    const memory = new RetryMemory({ shared: stuck, clock: () => now });
    void memory.remember(key(), { given: ["near"], at: now });
    void memory.remember(key(), { given: ["near", "second"], at: now + 1 });
    expect(written).toHaveLength(1);
    now += MAX_TURN_MS;
    void memory.remember(key(), { given: ["third"], at: now });
    expect(written.map((history) => history.given)).toEqual([["near"], ["third"]]);
  });

  it("Should hold no more turns to write than its capacity once the old ones have ended", () => {
    let now = T0;
    const stuck: SharedAskStore = { read: () => Promise.resolve(null), write: () => new Promise<void>(() => undefined) };
    const memory = new RetryMemory({ capacity: 10, shared: stuck, clock: () => now });
    const clientOf = (i: number) => i.toString(16).padStart(32, "0");
    for (let i = 0; i < 10; i++) void memory.remember(key(clientOf(i)), { given: ["near"], at: now });
    now += MAX_TURN_MS;
    for (let i = 10; i < 30; i++) void memory.remember(key(clientOf(i)), { given: ["near"], at: now });
    expect(memory.turnsInFlight).toBeLessThanOrEqual(20);
  });

  it("Should ignore a cached entry that is not a history", async () => {
    const url = askCacheUrl("http://frontdoor.test", key());
    await caches.default.put(url, new Response(null, { headers: { "X-Retry-Memory": JSON.stringify({ given: "near", at: T0 }), "Cache-Control": "max-age=60" } }));
    expect(await new RetryMemory({ shared: new CacheAskStore() }).recall(key())).toBeNull();
    await caches.default.put(url, new Response(null, { headers: { "X-Retry-Memory": "{not json", "Cache-Control": "max-age=60" } }));
    expect(await new RetryMemory({ shared: new CacheAskStore() }).recall(key())).toBeNull();
  });
});

describe("askCacheUrl", () => {
  it("Should key an entry on the worker's origin by the client hash and the digest only", () => {
    expect(askCacheUrl("https://registry.example.org", key())).toBe(
      `https://registry.example.org/_frontdoor/retry-memory/v2/0123456789abcdef0123456789abcdef/sha256/${"ab".repeat(32)}`,
    );
  });

  it.each([
    ["a client that is not a hash", key("../../etc"), "https://registry.example.org"],
    ["a digest that is not one", key(undefined, "sha256:../x"), "https://registry.example.org"],
    ["an origin that is not http(s)", key(), "ftp://registry.example.org"],
  ])("Should refuse %s", (_, badKey, origin) => {
    expect(() => askCacheUrl(origin, badKey)).toThrow();
  });
});

describe("parseAskHistory", () => {
  it.each([null, 1, { given: [], at: T0 }, { given: ["a"], at: "now" }, { given: [1], at: T0 }, { given: Array(65).fill("a"), at: T0 }])(
    "Should refuse %j",
    (value) => {
      expect(parseAskHistory(value)).toBeNull();
    },
  );
});

describe("demoteAbandoned", () => {
  const ranked = ["a", "b", "c", "origin"];

  it("Should keep the list as it is for a client that never came back", () => {
    expect(demoteAbandoned(ranked, null, 0)).toEqual([0, 1, 2, 3]);
  });

  it("Should move the mirrors a client came back from before the origin, in order", () => {
    expect(demoteAbandoned(ranked, abandon(null, "a", 0), 10)).toEqual([1, 2, 0, 3]);
    expect(demoteAbandoned(ranked, abandon(abandon(null, "b", 0), "a", 5), 10)).toEqual([2, 0, 1, 3]);
  });

  it("Should forget come-backs older than the window", () => {
    expect(demoteAbandoned(ranked, abandon(null, "a", 0), REPEAT_WINDOW_MS + 1)).toEqual([0, 1, 2, 3]);
    expect(abandon(abandon(null, "a", 0), "b", REPEAT_WINDOW_MS + 1).given).toEqual(["b"]);
  });
});
