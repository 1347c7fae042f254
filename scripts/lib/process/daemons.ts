import { mkdir, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { runCommand, startDaemon, type CommandResult, type Daemon } from "./processes";

/** True once something accepts connections on the unix socket at `path`. */
function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** True once the Docker engine API on `socketPath` answers `GET /_ping` with 200. */
function dockerPings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: "/_ping", method: "GET", timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once("error", () => resolve(false));
    req.once("timeout", () => req.destroy());
    req.end();
  });
}

export interface ContainerdDaemon extends Daemon {
  /** The gRPC socket, for `ctr -a` and `dockerd --containerd`. */
  socket: string;
}

/**
 * Starts containerd as root with everything (root, state, sockets, opt) under `dir`,
 * the CRI plugin disabled and content isolated per namespace; it touches nothing of the host's own containerd.
 */
export async function startContainerd(dir: string): Promise<ContainerdDaemon> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, "containerd.sock");
  const config = [
    "version = 2",
    `root = ${JSON.stringify(join(dir, "root"))}`,
    `state = ${JSON.stringify(join(dir, "state"))}`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = ${JSON.stringify(socket)}`,
    "[ttrpc]",
    `  address = ${JSON.stringify(join(dir, "containerd.sock.ttrpc"))}`,
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${JSON.stringify(join(dir, "opt"))}`,
    // Each namespace keeps its own content, so a pull in one never reuses blobs fetched in another.
    '[plugins."io.containerd.metadata.v1.bolt"]',
    '  content_sharing_policy = "isolated"',
    "",
  ].join("\n");
  const configFile = join(dir, "config.toml");
  await writeFile(configFile, config);
  const daemon = await startDaemon({
    name: "containerd",
    command: "containerd",
    args: ["--config", configFile],
    logFile: join(dir, "containerd.log"),
    ready: async () => (await socketAccepts(socket)) && (await runCommand("ctr", ["-a", socket, "version"], { timeoutMs: 5_000 })).code === 0,
  });
  return Object.assign(daemon, { socket });
}

export interface DockerDaemon extends Daemon {
  /** Value for `DOCKER_HOST`. */
  host: string;
}

/** Starts dockerd on an existing containerd, with data, exec root, config, socket and pidfile under `dir`, no networking set up. */
export async function startDockerd(dir: string, containerdSocket: string): Promise<DockerDaemon> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, "docker.sock");
  // An own config file, and the trust key it names, keep dockerd out of /etc/docker.
  const configFile = join(dir, "daemon.json");
  await writeFile(configFile, `${JSON.stringify({ "deprecated-key-path": join(dir, "key.json") })}\n`);
  const daemon = await startDaemon({
    name: "dockerd",
    command: "dockerd",
    args: [
      "--config-file", configFile,
      "--data-root", join(dir, "data"),
      "--exec-root", join(dir, "exec"),
      "--pidfile", join(dir, "dockerd.pid"),
      "-H", `unix://${socket}`,
      "--containerd", containerdSocket,
      "--iptables=false",
      "--ip6tables=false",
      "--bridge=none",
      "--storage-driver", "vfs",
    ],
    logFile: join(dir, "dockerd.log"),
    ready: () => dockerPings(socket),
    readyTimeoutMs: 60_000,
  });
  return Object.assign(daemon, { host: `unix://${socket}` });
}

/** Runs the docker CLI against the engine at `host`, with its client config under `dir`. */
export function docker(host: string, dir: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return runCommand("docker", ["--config", join(dir, "docker-cli"), ...args], { env: { ...process.env, DOCKER_HOST: host }, timeoutMs });
}

/** Runs ctr against the containerd at `socket` in `namespace`. */
export function ctr(socket: string, namespace: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return runCommand("ctr", ["-a", socket, "-n", namespace, ...args], { timeoutMs });
}

/**
 * Runs rootful podman with vfs storage and every piece of state (storage, run root, tmp, networks, events) under `dir`.
 * `env` adds variables, e.g. a HOME whose `.config/containers/registries.d` podman reads.
 */
export async function podman(dir: string, args: readonly string[], timeoutMs?: number, env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  const tmp = join(dir, "tmp");
  await mkdir(tmp, { recursive: true });
  return runCommand(
    "podman",
    [
      "--root", join(dir, "root"),
      "--runroot", join(dir, "runroot"),
      "--tmpdir", tmp,
      "--network-config-dir", join(dir, "networks"),
      "--storage-driver", "vfs",
      "--cgroup-manager", "cgroupfs",
      "--events-backend", "file",
      ...args,
    ],
    { env: { ...process.env, ...env, TMPDIR: tmp }, timeoutMs },
  );
}

/** Runs skopeo with its temporary files under `dir`. */
export async function skopeo(dir: string, args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  const tmp = join(dir, "tmp");
  await mkdir(tmp, { recursive: true });
  return runCommand("skopeo", args, { env: { ...process.env, TMPDIR: tmp }, timeoutMs });
}
