import { setTimeout as sleepFor } from "node:timers/promises";
import { CliError } from "../cli/error";

/** The namespace methods the publisher and the admin commands call (src/store/publication-store.ts, local-kv.ts). */
const RETRIED_METHODS = ["get", "getWithMetadata", "put", "delete", "list"] as const;

/** Waits before the 2nd..6th attempt: six attempts within about 8 s of waiting. */
export const LOCAL_KV_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000];

/**
 * How the KV binding reports a request the simulator answered with an error:
 * "KV PUT failed: 500 Internal Server Error" (a list is a GET). A 5xx is the
 * simulator's SQLite database busy or locked by another process.
 */
const FAILED_REQUEST = /^KV [A-Z_]+ failed: (\d{3})\b/;
const DATABASE_BUSY = /SQLITE_BUSY|database is locked/;

/** A failure the same call may not meet again: a 5xx of the simulator, or its database busy. Not a 4xx, a bad key, or JSON that does not parse. */
export function isTransientKvError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : "";
  const status = FAILED_REQUEST.exec(message)?.[1];
  return (status !== undefined && status.startsWith("5")) || DATABASE_BUSY.test(message);
}

/** A KV operation that still failed transiently after every attempt. */
export class LocalKvBusyError extends CliError {
  override name = "LocalKvBusyError";
}

export interface RetryOptions {
  /** Named in the message when every attempt failed. */
  persistDir: string;
  delaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

function busyError(last: Error, attempts: number, waitedMs: number, persistDir: string): LocalKvBusyError {
  return new LocalKvBusyError(
    `${last.message}, still after ${attempts} attempts over ${(waitedMs / 1000).toFixed(1)} s: another process may be using the persist dir ${persistDir} ` +
      "(the local stack of `npm start`, another publisher); run the command again, a rerun completes a publication this one left part-way",
    { cause: last },
  );
}

/** Runs `operation` until it succeeds, fails with a non-transient error, or has been tried once more than there are delays. */
export async function withRetries<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { delaysMs = LOCAL_KV_RETRY_DELAYS_MS, sleep = sleepFor } = options;
  let waitedMs = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransientKvError(error)) throw error;
      const delay = delaysMs[attempt];
      if (delay === undefined) throw busyError(error as Error, attempt + 1, waitedMs, options.persistDir);
      await sleep(delay);
      waitedMs += delay;
    }
  }
}

type Call = (...args: unknown[]) => Promise<unknown>;

/**
 * `kv` with each of `RETRIED_METHODS` retried on transient failures: puts and
 * deletes are idempotent, and the callers put strings or bytes, never streams,
 * so a retry sends the same value. It holds only those methods.
 */
export function retryingKv(kv: KVNamespace, options: RetryOptions): KVNamespace {
  const retrying: Partial<Record<(typeof RETRIED_METHODS)[number], Call>> = {};
  for (const method of RETRIED_METHODS) {
    const call = kv[method] as Call;
    retrying[method] = (...args) => withRetries(() => call.apply(kv, args), options);
  }
  return retrying as unknown as KVNamespace;
}
