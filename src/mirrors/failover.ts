import { CacheAskStore } from "../store/ask-cache";
import { RetryMemory, type RetryMemoryOptions } from "./retry-memory";
import { RetrySignal } from "./retry-signal";

/** What retry failover keeps per isolate: the memory of asks, the come-back counts, and the clock both read. */
export interface Failover {
  memory: RetryMemory;
  signal: RetrySignal;
  clock: () => number;
}

export interface FailoverOptions extends RetryMemoryOptions {
  signal?: RetrySignal;
  clock?: () => number;
}

/** The isolate's failover state: by default an LRU backed by the location's Workers Cache, and the wall clock. */
export function createFailover(options: FailoverOptions = {}): Failover {
  const { signal, clock = Date.now, ...memory } = options;
  return {
    memory: new RetryMemory({ shared: new CacheAskStore(), clock, ...memory }),
    signal: signal ?? new RetrySignal(),
    clock,
  };
}
