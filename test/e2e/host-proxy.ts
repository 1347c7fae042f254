import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP proxy on 127.0.0.1 that forwards every absolute-form request to
 * one local port, keeping its `Host` header: clients given
 * `HTTP_PROXY=<url>` reach the front door under any host name (such as
 * `us-iad.localhost`) without /etc/hosts or DNS. Go's proxy rule sends
 * loopback addresses direct, so redirects to local mirrors bypass it.
 * `CONNECT` is refused, so a client trying HTTPS first falls back to HTTP.
 */
export async function startHostProxy(targetPort: number): Promise<{ url: string; hosts: string[]; stop(): Promise<void> }> {
  const hosts: string[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    hosts.push(incoming.headers.host ?? "");
    const target = new URL(incoming.url ?? "/", "http://placeholder");
    const forwarded = request(
      { host: "127.0.0.1", port: targetPort, method: incoming.method, path: `${target.pathname}${target.search}`, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on("error", () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  server.on("connect", (_request, socket) => socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hosts,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
