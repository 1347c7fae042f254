/**
 * The bench's stand-ins for the platform services the front door calls, run
 * in their own workerd process so their CPU is not counted as the front
 * door's: Workers KV namespaces and the Cache API, both in memory.
 *
 * KV speaks the protocol workerd's `kvNamespace` binding sends (the same one
 * Miniflare's KV simulator answers): `GET /<key>` (value, `CF-KV-Metadata`),
 * `PUT /<key>`, `DELETE /<key>`, `GET /?prefix=&cursor=&key_count_limit=`.
 * Each namespace has its own socket, whose `X-Bench-Role: kv:<namespace>`
 * header workerd injects; so does the cache's (`cache`). The cache answers
 * workerd's `cacheApiOutbound`:
 * `PUT <url>` with a serialised HTTP response as body, `GET <url>` (504 with
 * `CF-Cache-Status: MISS` on a miss), `PURGE <url>`.
 * On the admin socket (no role), `GET /stats` answers the operation counts and
 * key counts, `POST /stats/reset` zeroes the counts.
 */

/** namespace -> key -> { value: Uint8Array, metadata: string | null } */
const namespaces = new Map();
/** url -> { status, headers, body, expires } */
const cache = new Map();
const stats = { kvGet: 0, kvPut: 0, kvDelete: 0, kvList: 0, cacheMatch: 0, cachePut: 0, cacheHit: 0 };
const MAX_CACHE_ENTRIES = 100_000;

function namespace(name) {
  let store = namespaces.get(name);
  if (store === undefined) namespaces.set(name, (store = new Map()));
  return store;
}

async function kv(request, name, rest, url) {
  const store = namespace(name);
  if (rest === "" && request.method === "GET") {
    stats.kvList++;
    const prefix = url.searchParams.get("prefix") ?? "";
    const limit = Number(url.searchParams.get("key_count_limit") ?? "1000");
    const after = url.searchParams.get("cursor") ?? "";
    const names = [...store.keys()].filter((key) => key.startsWith(prefix) && key > after).sort();
    const page = names.slice(0, limit);
    const keys = page.map((key) => ({ name: key, ...(store.get(key).metadata === null ? {} : { metadata: store.get(key).metadata }) }));
    const complete = page.length === names.length;
    return Response.json(complete ? { keys, list_complete: true, cacheStatus: null } : { keys, list_complete: false, cursor: page[page.length - 1], cacheStatus: null });
  }
  const key = url.searchParams.get("urlencoded") === "true" ? decodeURIComponent(rest) : rest;
  if (request.method === "GET") {
    stats.kvGet++;
    const entry = store.get(key);
    if (entry === undefined) return new Response("Not Found", { status: 404 });
    return new Response(entry.value, { headers: entry.metadata === null ? {} : { "CF-KV-Metadata": entry.metadata } });
  }
  if (request.method === "PUT") {
    stats.kvPut++;
    store.set(key, { value: new Uint8Array(await request.arrayBuffer()), metadata: request.headers.get("CF-KV-Metadata") });
    return new Response(null);
  }
  if (request.method === "DELETE") {
    stats.kvDelete++;
    store.delete(key);
    return new Response(null);
  }
  return new Response("method not allowed", { status: 405 });
}

function parseHttpResponse(bytes) {
  let end = -1;
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) return null;
  const [statusLine, ...lines] = new TextDecoder().decode(bytes.subarray(0, end)).split("\r\n");
  const status = Number(statusLine.split(" ")[1]);
  const headers = lines.map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]);
  return { status, headers, body: bytes.slice(end + 4) };
}

async function cacheOperation(request) {
  const key = request.url;
  const now = Date.now();
  if (request.method === "PUT") {
    stats.cachePut++;
    const parsed = parseHttpResponse(new Uint8Array(await request.arrayBuffer()));
    if (parsed === null) return new Response(null, { status: 400 });
    const control = parsed.headers.find(([name]) => name.toLowerCase() === "cache-control")?.[1] ?? "";
    const maxAge = Number(/max-age=(\d+)/.exec(control)?.[1] ?? "0");
    if (maxAge <= 0) return new Response(null, { status: 413 });
    if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value);
    cache.set(key, { ...parsed, expires: now + maxAge * 1000 });
    return new Response(null, { status: 204 });
  }
  if (request.method === "GET") {
    stats.cacheMatch++;
    const entry = cache.get(key);
    if (entry === undefined || entry.expires <= now) return new Response(null, { status: 504, headers: { "CF-Cache-Status": "MISS" } });
    stats.cacheHit++;
    return new Response(entry.body, { status: entry.status, headers: [...entry.headers, ["CF-Cache-Status", "HIT"]] });
  }
  if (request.method === "PURGE") return new Response(null, { status: cache.delete(key) ? 200 : 404 });
  return new Response(null, { status: 405 });
}

export default {
  async fetch(request) {
    const role = request.headers.get("X-Bench-Role") ?? "";
    const url = new URL(request.url);
    if (role === "cache") return cacheOperation(request);
    if (role.startsWith("kv:")) return kv(request, role.slice(3), url.pathname.slice(1), url);
    if (url.pathname === "/stats") return Response.json({ ...stats, keys: Object.fromEntries([...namespaces].map(([name, store]) => [name, store.size])) });
    if (url.pathname === "/stats/reset" && request.method === "POST") {
      for (const name of Object.keys(stats)) stats[name] = 0;
      return new Response(null);
    }
    return new Response("not found", { status: 404 });
  },
};
