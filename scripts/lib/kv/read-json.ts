import { CliError } from "../cli/error";
import type { KvTarget } from "./kv-target";

/** The value of `key` parsed as JSON, or null when the namespace has no such key; a value that is not JSON is a CliError naming the key. */
export async function readJson<T>(target: Pick<KvTarget, "readText">, key: string): Promise<T | null> {
  const text = await target.readText(key);
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`the namespace's ${key} is not JSON: ${text.slice(0, 200)}`);
  }
}
