import type { RequestLogMode } from "../config";

/** Where log lines go; the runtime's console by default, a test's list when it passes one. */
export type LogSink = (line: string) => void;

/**
 * Longest text field of a log line, in characters; longer ones (a client's
 * path can be kilobytes) are cut and end in "…". With five such fields a
 * line stays far below Workers' 64 KB limit on one log message, even with
 * every character escaped.
 */
export const MAX_LOG_FIELD_LENGTH = 1024;

function bounded<T extends string | null>(value: T): T {
  return (value === null || value.length <= MAX_LOG_FIELD_LENGTH ? value : `${value.slice(0, MAX_LOG_FIELD_LENGTH)}…`) as T;
}

/** Whether a request answered with `status` gets a line under `mode`. */
export function isLogged(mode: RequestLogMode, status: number): boolean {
  return mode === "all" || (mode === "errors" && status >= 500);
}

/** What one request's log line says. */
export interface LoggedRequest {
  method: string;
  route: string;
  path: string;
  status: number;
  digest: string | null;
  mirror: string | null;
  durationMs: number;
}

/**
 * One JSON line: route, status, digest, mirror chosen and duration. Client
 * addresses, credentials and query strings are never given to it.
 */
export function requestLogLine(request: LoggedRequest): string {
  return JSON.stringify({
    method: bounded(request.method),
    route: bounded(request.route),
    path: bounded(request.path),
    status: request.status,
    digest: bounded(request.digest),
    mirror: bounded(request.mirror),
    durationMs: request.durationMs,
  });
}
