import { API_VERSION, API_VERSION_HEADER } from "./headers";
import { NOSNIFF } from "./security-headers";

/**
 * An answer's headers by name. The runtime turns a record into headers far
 * faster than a list of pairs; a field that repeats (`Link`) is one
 * comma-separated value, which is what the runtime sends on the wire anyway.
 */
export type AnswerHeaders = Readonly<Record<string, string>>;

/** What every registry API answer carries besides its own headers. */
const REGISTRY_ANSWER_HEADERS: AnswerHeaders = { ...NOSNIFF, [API_VERSION_HEADER]: API_VERSION };

/** Answers `registryAnswer` built: the request middleware leaves their headers as they are. */
const builtWhole = new WeakSet<Response>();

/**
 * A registry API answer (JSON, manifest, metalink or bodiless, never HTML)
 * built with every header in one construction: each header set on it
 * afterwards would be a call into the runtime of its own.
 */
export function registryAnswer(body: BodyInit | null, headers: AnswerHeaders, status = 200): Response {
  const response = new Response(body, { status, headers: { ...headers, ...REGISTRY_ANSWER_HEADERS } });
  builtWhole.add(response);
  return response;
}

/** Whether `response` came from `registryAnswer`, with its answer headers already. */
export function isBuiltWhole(response: Response): boolean {
  return builtWhole.has(response);
}
