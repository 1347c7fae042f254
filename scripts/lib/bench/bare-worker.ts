import { Hono } from "hono";

/**
 * The bench's baseline: a bare Hono worker that answers every request with a
 * constant 307, the least a blob redirect can cost on the same runtime.
 */
const app = new Hono();
app.all("*", (c) => c.redirect("https://mirror.example.net/blobs/sha256/5e5e5e5e", 307));

export default app;
