/** One entry of a tar archive: a regular file or a directory. */
export interface TarEntry {
  /** Path inside the archive, without a leading slash; directories end with "/". */
  path: string;
  /** File content; omitted for directories. */
  content?: Uint8Array;
  mode?: number;
  /** Seconds since the epoch. */
  mtime: number;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function writeString(header: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.byteLength > length) throw new RangeError(`tar field too long: ${value}`);
  header.set(bytes, offset);
}

/** Numeric fields are zero-padded octal followed by a NUL (POSIX.1-1988 ustar). */
function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  writeString(header, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

/** Splits a long path into ustar's `prefix` (155 bytes) and `name` (100 bytes) at a slash. */
function splitPath(path: string): { prefix: string; name: string } {
  if (encoder.encode(path).byteLength <= 100) return { prefix: "", name: path };
  const cut = path.lastIndexOf("/", path.length - 2);
  const prefix = path.slice(0, cut);
  const name = path.slice(cut + 1);
  if (cut < 0 || encoder.encode(prefix).byteLength > 155 || encoder.encode(name).byteLength > 100) {
    throw new RangeError(`path too long for a ustar header: ${path}`);
  }
  return { prefix, name };
}

function header(entry: TarEntry): Uint8Array {
  const isDirectory = entry.path.endsWith("/");
  const size = isDirectory ? 0 : (entry.content?.byteLength ?? 0);
  const block = new Uint8Array(BLOCK);
  const { prefix, name } = splitPath(entry.path);
  writeString(block, 0, 100, name);
  writeOctal(block, 100, 8, entry.mode ?? (isDirectory ? 0o755 : 0o644));
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, entry.mtime);
  block.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  writeString(block, 156, 1, isDirectory ? "5" : "0");
  writeString(block, 257, 6, "ustar\0");
  writeString(block, 263, 2, "00");
  writeString(block, 265, 32, "root");
  writeString(block, 297, 32, "root");
  writeString(block, 345, 155, prefix);
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  writeString(block, 148, 8, `${checksum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/**
 * Builds a POSIX ustar archive (POSIX.1-1988, "ustar Interchange Format"):
 * a 512-byte header per entry, content padded to 512 bytes, two zero blocks at the end.
 */
export function tar(entries: readonly TarEntry[]): Uint8Array {
  const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;
  const total = entries.reduce((sum, entry) => sum + BLOCK + padded(entry.content?.byteLength ?? 0), 2 * BLOCK);
  const archive = new Uint8Array(total);
  let offset = 0;
  for (const entry of entries) {
    archive.set(header(entry), offset);
    offset += BLOCK;
    if (entry.content !== undefined && !entry.path.endsWith("/")) {
      archive.set(entry.content, offset);
      offset += padded(entry.content.byteLength);
    }
  }
  return archive;
}

/** Compresses bytes with gzip (RFC 1952) through the platform's CompressionStream. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
