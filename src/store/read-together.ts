/**
 * Awaits every read, then returns their values or rethrows the first failure.
 * Unlike `Promise.all`, no read is left running when one fails: a KV read that
 * outlives its request fails inside the runtime after the response is sent.
 */
export async function readTogether<T extends readonly unknown[]>(reads: { [K in keyof T]: Promise<T[K]> | T[K] }): Promise<T> {
  const results = await Promise.allSettled(reads);
  const failed = results.find((result) => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
