import type { ContentfulStatusCode } from "hono/utils/http-status";
import { registryAnswer } from "./http/registry-answer";
import { utf8 } from "./http/utf8";

/**
 * Every error the front door can answer with, and its HTTP status.
 * OCI Distribution Spec v1.1, "Error Codes"; the last entries are our own.
 */
export const ERROR_CODES = {
  BLOB_UNKNOWN: { status: 404, message: "blob unknown to registry" },
  DIGEST_INVALID: { status: 400, message: "provided digest did not match uploaded content" },
  MANIFEST_UNKNOWN: { status: 404, message: "manifest unknown" },
  NAME_INVALID: { status: 400, message: "invalid repository name" },
  NAME_UNKNOWN: { status: 404, message: "repository name not known to registry" },
  TAG_INVALID: { status: 400, message: "manifest tag did not match URI" },
  UNSUPPORTED: { status: 405, message: "the operation is unsupported" },
  PAGINATION_NUMBER_INVALID: { status: 400, message: "invalid number of results requested" },
  NOT_FOUND: { status: 404, message: "no such endpoint" },
  URI_TOO_LONG: { status: 414, message: "request target too long" },
  HEADERS_TOO_LARGE: { status: 431, message: "request headers too large" },
  MIRROR_UNAVAILABLE: { status: 503, message: "no mirror or origin can serve this content" },
  UNKNOWN: { status: 500, message: "unknown error" },
} as const satisfies Record<string, { status: ContentfulStatusCode; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A failure that maps to one entry of the error-code table. */
export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly detail: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, options: { message?: string; detail?: unknown; headers?: Record<string, string> } = {}) {
    super(options.message ?? ERROR_CODES[code].message);
    this.name = "RegistryError";
    this.code = code;
    this.detail = options.detail ?? null;
    this.headers = options.headers ?? {};
  }

  get status(): ContentfulStatusCode {
    return ERROR_CODES[this.code].status;
  }
}

/** The spec's error body: `{"errors":[{"code","message","detail"}]}`. */
export function errorBody(error: RegistryError): string {
  return JSON.stringify({
    errors: [{ code: error.code, message: error.message, detail: error.detail }],
  });
}

/** Builds the complete error response, headers included; used by the app's onError and notFound. */
export function errorResponse(error: RegistryError, method: string): Response {
  const body = utf8(errorBody(error));
  const headers = {
    ...error.headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(body.byteLength),
  };
  return registryAnswer(method === "HEAD" ? null : body, headers, error.status);
}
