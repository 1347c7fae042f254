import { Hono } from "hono";

/** A front door answer copied once at the start of the bench: status, headers and body. */
interface CopiedAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: string | null;
}

/**
 * The bench's baselines: a bare Hono worker that answers every request with a
 * constant 307, the least a blob redirect can cost on the same runtime; with
 * an `ANSWER` binding (JSON of a CopiedAnswer) it answers that copy of a front
 * door answer instead, which is what sending those bytes costs without any of
 * the front door's work.
 */
const app = new Hono<{ Bindings: { ANSWER?: string } }>();
/** The copy, with its headers as a record: the cheapest form the runtime takes them in, as the front door builds its own. */
let copied: { status: number; headers: Record<string, string>; body: string | null } | null | undefined;
app.all("*", (c) => {
  if (copied === undefined) {
    const answer = c.env.ANSWER === undefined ? null : (JSON.parse(c.env.ANSWER) as CopiedAnswer);
    copied = answer === null ? null : { ...answer, headers: Object.fromEntries(answer.headers) };
  }
  if (copied === null) return c.redirect("https://mirror.example.net/blobs/sha256/5e5e5e5e", 307);
  return new Response(copied.body, { status: copied.status, headers: copied.headers });
});

export default app;
