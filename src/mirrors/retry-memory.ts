import { LruMap } from "./lru";

/**
 * Failover driven by the client's own retries (docs/selection.md, "Retries and
 * resumes"). No container client fails over between mirrors, but docker and
 * containerd resume a cut-off body with `Range` and retry, and a user runs a
 * failed pull again. The edge remembers, per client and digest, which entries
 * of the ranked selection it already sent that client to, and walks the list.
 */

/** A repeated ask this long after the previous one is a retry; later, it is a new pull. */
export const REPEAT_WINDOW_MS = 10 * 60 * 1000;
/** A resume (`Range` past byte 0) is recognised this long after the previous ask: a long download may be cut late. */
export const RESUME_WINDOW_MS = 30 * 60 * 1000;
/** Most (client, digest) entries one isolate remembers; about 300 bytes each. */
export const RETRY_MEMORY_ENTRIES = 4096;
/** Longest wait for the location's shared copy of a memory entry; past it, the isolate's own copy decides. */
export const SHARED_READ_DEADLINE_MS = 50;
/**
 * How long an isolate answers a client's abandoned-mirrors entry from its own
 * copy after reading the location's. That entry only orders the client's first
 * asks (`demoteAbandoned`), so a copy this old costs at most the blobs asked
 * meanwhile going to a mirror another isolate saw the client leave; the entry
 * of one client and digest, which decides where a come-back goes, is read on every ask.
 */
export const ABANDONED_FRESH_MS = 2_000;
/** Longest wait for one shared write before the next history of the entry may be written. */
export const SHARED_WRITE_DEADLINE_MS = 5_000;
/** Most mirror ids one entry keeps: more than a ranked list holds under any sensible mirror list cap. */
export const MAX_GIVEN = 64;

/** What the edge remembers of one client and one digest. */
export interface AskHistory {
  /** Ids of the entries of the ranked list this client was sent to, each once, the one given longest ago first. */
  given: readonly string[];
  /** When the latest ask came, in milliseconds since the epoch. */
  at: number;
}

export interface Ask {
  now: number;
  /** The GET carries a `Range` whose first byte is past 0: the client holds bytes from its last target. */
  resume: boolean;
}

export interface Target {
  /** Position in the ranked list of the entry to redirect to. */
  index: number;
  /** The entry this client was sent to last, when this ask is a come-back within the window; null for a first ask. */
  previous: string | null;
  /** The memory to keep after this ask. */
  history: AskHistory;
}

/** Whether `history` still speaks for an ask at `ask.now`. */
export function isLive(history: AskHistory | null, ask: Ask): history is AskHistory {
  if (history === null || history.given.length === 0) return false;
  return ask.now - history.at <= (ask.resume ? RESUME_WINDOW_MS : REPEAT_WINDOW_MS);
}

/**
 * Which entry of `ranked` (ids, best first, the origin last) a blob GET is sent to.
 * - A first ask, or one after the window: the best, so a normal pull, which asks
 *   every blob once, stays on one mirror.
 * - A come-back (a repeated ask, or a resume with `Range` past byte 0): the first
 *   entry this client has not been given for this digest, so the origin comes last;
 *   a resume is thereby never sent to the mirror that cut it off.
 * - When every entry was given, the one given longest ago, which is the best right
 *   after the origin: never the entry given last while another exists, and the
 *   origin serves one ask of each round, not every ask of a busy network from then on.
 */
export function chooseTarget(ranked: readonly string[], history: AskHistory | null, ask: Ask): Target {
  if (ranked.length === 0) throw new Error("chooseTarget needs at least one ranked entry");
  if (!isLive(history, ask)) return { index: 0, previous: null, history: { given: [ranked[0]!], at: ask.now } };
  const { given } = history;
  let index = ranked.findIndex((id) => !given.includes(id));
  if (index < 0) {
    index = 0;
    for (let i = 1; i < ranked.length; i++) if (given.indexOf(ranked[i]!) < given.indexOf(ranked[index]!)) index = i;
  }
  const picked = ranked[index]!;
  return {
    index,
    previous: given[given.length - 1]!,
    history: { given: [...given.filter((id) => id !== picked), picked].slice(-MAX_GIVEN), at: ask.now },
  };
}

/**
 * Whom a memory entry is about: a hash of the client (network and program) and
 * a validated digest, or no digest for the mirrors that client came back from.
 */
export interface AskKey {
  /** Lower-case hex; never the address itself. */
  client: string;
  /** null: the entry whose `given` lists the mirrors the client came back from, for any blob. */
  digest: string | null;
  /** The worker's origin the request came to; shared stores key entries under it, the isolate ignores it. */
  origin: string;
}

/** Where the isolates of one location share memory entries (src/store/ask-cache.ts: the Workers Cache API). */
export interface SharedAskStore {
  /** The value kept for `key`, as stored (checked by `parseAskHistory` before use), or null. */
  read(key: AskKey): Promise<unknown>;
  /** Keeps `history` for `maxAgeSeconds`, after which it is gone. */
  write(key: AskKey, history: AskHistory, maxAgeSeconds: number): Promise<void>;
}

export interface RetryMemoryOptions {
  capacity?: number;
  shared?: SharedAskStore | null;
  sharedReadDeadlineMs?: number;
  /** Milliseconds since the epoch; the wall clock by default. */
  clock?: () => number;
}

/** A shared read or write that missed its deadline. */
const LATE = Symbol("late");

/** `work`'s value, or LATE once `ms` have passed without it; the timer is cleared either way. */
async function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms);
  });
  const result = await Promise.race([work, timeout]);
  if (timer !== undefined) clearTimeout(timer);
  return result;
}

/** Forgets the entries of `slots` that began `maxAgeMs` or longer before `now`. */
function dropOlder(slots: Map<string, { since: number }>, now: number, maxAgeMs: number): void {
  for (const [id, { since }] of slots) if (now - since >= maxAgeMs) slots.delete(id);
}

/** Of two copies of one entry, the one written by the later ask. */
function newer(a: AskHistory | null, b: AskHistory | null): AskHistory | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.at !== b.at) return a.at > b.at ? a : b;
  return a.given.length >= b.given.length ? a : b;
}

/**
 * Memory of asks: an isolate-local LRU of `capacity` entries, and optionally the
 * location's shared store, so that a retry that lands on another isolate of the
 * same location is still recognised. Reads of the shared store wait at most
 * `sharedReadDeadlineMs`; a late read is handed to `late` to finish after the
 * response. Created once per isolate (src/app.ts).
 */
export class RetryMemory {
  private readonly local: LruMap<string, AskHistory>;
  /** When the location's copy of a client's abandoned-mirrors entry was last read, by local key. */
  private readonly abandonedReadAt: LruMap<string, number>;
  private readonly shared: SharedAskStore | null;
  /**
   * Shared reads in flight, by local key. An ask of an entry whose read is in
   * flight waits for that read: it is as fresh for it as a read of its own, so
   * a client asking faster than the cache answers costs one read per round
   * trip. The ask that started a read drops it when it has waited its
   * deadline, and none older than that is joined.
   */
  private readonly reading = new Map<string, SharedRead>();
  /** Entries with a shared write in flight, and the history remembered since; ended turns are dropped past `capacity`. */
  private readonly writing = new Map<string, WriteSlot>();
  private readonly deadline: number;
  private readonly clock: () => number;

  constructor(options: RetryMemoryOptions = {}) {
    this.local = new LruMap(options.capacity ?? RETRY_MEMORY_ENTRIES);
    this.abandonedReadAt = new LruMap(options.capacity ?? RETRY_MEMORY_ENTRIES);
    this.shared = options.shared ?? null;
    this.deadline = options.sharedReadDeadlineMs ?? SHARED_READ_DEADLINE_MS;
    this.clock = options.clock ?? Date.now;
  }

  /** Entries held in this isolate. */
  get size(): number {
    return this.local.size;
  }

  get capacity(): number {
    return this.local.capacity;
  }

  /** Entries whose shared read is in flight. */
  get readsInFlight(): number {
    return this.reading.size;
  }

  /** Entries whose shared write is in flight. */
  get turnsInFlight(): number {
    return this.writing.size;
  }

  /**
   * The newest known history of `key`, or null; with `useShared` false, the isolate's copy only.
   * Never rejects: a failing shared store counts as a miss.
   */
  async recall(key: AskKey, late: (work: Promise<unknown>) => void = () => undefined, useShared = true): Promise<AskHistory | null> {
    const id = localKey(key);
    if (this.shared === null || !useShared) return this.local.get(id) ?? null;
    const now = this.clock();
    if (key.digest === null) {
      const readAt = this.abandonedReadAt.get(id);
      if (readAt !== undefined && now - readAt >= 0 && now - readAt < ABANDONED_FRESH_MS) return this.local.get(id) ?? null;
    }
    // A read older than the deadline is never joined: its request may have been cancelled with it.
    const started = this.reading.get(id);
    const shared = started !== undefined && now - started.since < this.deadline ? await this.joinRead(started) : await this.startRead(key, id, now, late);
    // Read the isolate's copy after the wait: an ask answered meanwhile may have kept a newer one.
    const local = this.local.get(id) ?? null;
    if (shared === LATE) return local;
    if (key.digest === null) this.abandonedReadAt.set(id, now);
    const merged = newer(local, shared);
    if (merged !== null && merged !== local) this.local.set(id, merged);
    return merged;
  }

  /** Reads the location's copy of `key` for this ask and the asks that join it; past the deadline the read finishes through `late`. */
  private async startRead(key: AskKey, id: string, now: number, late: (work: Promise<unknown>) => void): Promise<AskHistory | null | typeof LATE> {
    const waiting = new Set<(history: AskHistory | null) => void>();
    const read = this.shared!.read(key)
      .then(parseAskHistory, (error: unknown) => {
        console.error(JSON.stringify({ retryMemory: "shared read failed", error: String(error) }));
        return null;
      })
      .then((history) => {
        for (const waiter of waiting) waiter(history);
        return history;
      });
    if (this.reading.size >= this.local.capacity) dropOlder(this.reading, now, this.deadline);
    this.reading.set(id, { since: now, waiting });
    const shared = await withinDeadline(read, this.deadline);
    if (this.reading.get(id)?.waiting === waiting) this.reading.delete(id);
    if (shared === LATE) late(read);
    return shared;
  }

  /**
   * Waits for another ask's read, with a timer of this ask's own: the runtime
   * ends a request that waits on nothing but another request's I/O, and a
   * waiter that gave up is never resolved from the other request.
   */
  private joinRead(read: SharedRead): Promise<AskHistory | null | typeof LATE> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        read.waiting.delete(waiter);
        resolve(LATE);
      }, this.deadline);
      const waiter = (history: AskHistory | null) => {
        clearTimeout(timer);
        resolve(history);
      };
      read.waiting.add(waiter);
    });
  }

  /**
   * Keeps `history` in the isolate at once; the returned promise is the shared
   * write (unless `useShared` is false), for `waitUntil`. It never rejects.
   * One write per entry is in flight at a time: histories remembered meanwhile
   * replace each other, and the one left is written when the write in flight
   * ends, by the request that started it. So the location's copy ends with the
   * isolate's latest, and a client asking faster than the cache answers costs
   * one write per round trip, not one per ask.
   */
  remember(key: AskKey, history: AskHistory, useShared = true): Promise<void> {
    const id = localKey(key);
    this.local.set(id, history);
    if (this.shared === null || !useShared) return Promise.resolve();
    const now = this.clock();
    const inFlight = this.writing.get(id);
    // A turn older than MAX_TURN_MS belongs to a request the runtime has ended; it is taken over.
    if (inFlight !== undefined && now - inFlight.since < MAX_TURN_MS) {
      inFlight.next = history;
      return Promise.resolve();
    }
    const slot: WriteSlot = { next: null, since: now };
    // Turns of requests the runtime ended go, so entries never asked again do not hold a slot for good.
    if (this.writing.size >= this.local.capacity) dropOlder(this.writing, now, MAX_TURN_MS);
    this.writing.set(id, slot);
    return this.writeInTurn(key, id, history, slot);
  }

  private async writeInTurn(key: AskKey, id: string, first: AskHistory, slot: WriteSlot): Promise<void> {
    let pending: AskHistory | null = first;
    for (let round = 0; pending !== null && round < MAX_WRITES_IN_TURN && this.clock() - slot.since < MAX_TURN_MS / 2; round++) {
      await this.writeShared(key, pending);
      pending = slot.next;
      slot.next = null;
    }
    if (this.writing.get(id) === slot) this.writing.delete(id);
    if (pending !== null) await this.writeShared(key, pending);
  }

  /** One shared write; a write that has not ended after SHARED_WRITE_DEADLINE_MS frees the entry's turn all the same. */
  private async writeShared(key: AskKey, history: AskHistory): Promise<void> {
    const write = this.shared!.write(key, history, Math.ceil(RESUME_WINDOW_MS / 1000)).catch((error: unknown) => {
      console.error(JSON.stringify({ retryMemory: "shared write failed", error: String(error) }));
    });
    await withinDeadline(write, SHARED_WRITE_DEADLINE_MS);
  }
}

/** A shared read in flight: when it started, and the asks waiting for it besides the one that started it. */
interface SharedRead {
  since: number;
  waiting: Set<(history: AskHistory | null) => void>;
}

/** The history waiting for the write in flight of one entry to end, and when that turn began. */
interface WriteSlot {
  next: AskHistory | null;
  since: number;
}

/** Most writes one request makes for one entry before it hands the turn to the next ask. */
const MAX_WRITES_IN_TURN = 32;
/**
 * Longest turn: a request's `waitUntil` ends 30 s after its response, so a
 * turn stops taking writes after half of this and is taken over after all of it.
 */
export const MAX_TURN_MS = 20_000;

function localKey(key: AskKey): string {
  return `${key.client}/${key.digest ?? "abandoned"}`;
}

/**
 * A client that came back for a blob from mirror M (a retry, a re-run, a
 * resume) most likely cannot get good bytes from M: its other blobs, asked for
 * the first time, go to the other mirrors of its list too, M only before the
 * origin, for REPEAT_WINDOW_MS. Returns the positions of `ranked` in that
 * order; without such come-backs, the list as it is, so a normal pull stays on
 * one mirror. The last entry (the origin) stays last.
 */
export function demoteAbandoned(ranked: readonly string[], abandoned: AskHistory | null, now: number): number[] {
  const order = ranked.map((_, position) => position);
  if (abandoned === null || now - abandoned.at > REPEAT_WINDOW_MS || ranked.length < 3) return order;
  const last = order.pop()!;
  const kept = order.filter((position) => !abandoned.given.includes(ranked[position]!));
  const demoted = order.filter((position) => abandoned.given.includes(ranked[position]!));
  return [...kept, ...demoted, last];
}

/** The abandoned mirrors after a come-back from `mirror` at `now`: it goes last, as the newest, and stale entries are forgotten. */
export function abandon(abandoned: AskHistory | null, mirror: string, now: number): AskHistory {
  const live = abandoned !== null && now - abandoned.at <= REPEAT_WINDOW_MS ? abandoned.given : [];
  return { given: [...live.filter((id) => id !== mirror), mirror].slice(-MAX_GIVEN), at: now };
}

/** A stored history, if `value` is one: read back from a shared store, it is checked like any input. */
export function parseAskHistory(value: unknown): AskHistory | null {
  if (typeof value !== "object" || value === null) return null;
  const { given, at } = value as { given?: unknown; at?: unknown };
  if (typeof at !== "number" || !Number.isFinite(at)) return null;
  if (!Array.isArray(given) || given.length === 0 || given.length > MAX_GIVEN) return null;
  if (!given.every((id): id is string => typeof id === "string" && id.length > 0 && id.length <= 200)) return null;
  return { given, at };
}
