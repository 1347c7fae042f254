import { open, type FileHandle } from "node:fs/promises";
import { CliError } from "./error";

/** The largest configuration or list file a command reads: far beyond any real mirrors, sets or import file. */
export const MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024;

/** A pipe's bytes up to `limit`, or null past it. */
async function readUpTo(file: FileHandle, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of file.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > limit) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The UTF-8 text of a file an operator names (a mirrors, sets or import
 * list file), or a CliError naming it when it is missing, a directory or a
 * device (such as /dev/zero), or larger than MAX_TEXT_FILE_BYTES: what
 * `readFile` alone says of those omits the path or reads without end. A pipe
 * (`<(…)`, /dev/stdin) is read up to the same bound.
 */
export async function readTextFile(path: string, what: string): Promise<string> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`${what} ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "a directory, not a file" : String(error)}`, { cause: error });
  }
  try {
    const info = await file.stat();
    const tooLarge = () => new CliError(`${what} ${path}: larger than the ${MAX_TEXT_FILE_BYTES / 1024 / 1024} MiB a ${what} may have`);
    if (info.isFIFO()) {
      const bytes = await readUpTo(file, MAX_TEXT_FILE_BYTES);
      if (bytes === null) throw tooLarge();
      return bytes.toString("utf8");
    }
    if (!info.isFile()) throw new CliError(`${what} ${path}: ${info.isDirectory() ? "a directory" : "a device or socket"}, not a file`);
    if (info.size > MAX_TEXT_FILE_BYTES) throw tooLarge();
    return await file.readFile("utf8");
  } finally {
    await file.close();
  }
}
