import { formatBytes } from "../../../src/render/bytes";

/** Where the client reports what it is doing; the CLI writes it to stderr. */
export interface Progress {
  /** One finished step or finding, as a line. */
  line(message: string): void;
  /** Bytes received so far for the download in flight. */
  bytes(label: string, received: number, total: number): void;
}

/** Lines on any stream; on a terminal, also a live byte counter redrawn at most every 100 ms. */
export function streamProgress(stream: NodeJS.WriteStream): Progress {
  let lastDraw = 0;
  let drawn = false;
  const clear = () => {
    if (drawn) stream.write("\r\x1b[K");
    drawn = false;
  };
  return {
    line(message) {
      clear();
      stream.write(`${message}\n`);
    },
    bytes(label, received, total) {
      if (!stream.isTTY) return;
      const now = Date.now();
      if (now - lastDraw < 100 && received < total) return;
      lastDraw = now;
      clear();
      stream.write(`  ${label} ${formatBytes(received)} / ${formatBytes(total)}`);
      drawn = true;
    },
  };
}

/** Discards everything; for library callers that want silence. */
export const silentProgress: Progress = { line() {}, bytes() {} };
