import { access, constants } from "node:fs/promises";
import { delimiter, isAbsolute, join } from "node:path";

/** A program the end-to-end tests start, and the Debian package that brings it. */
export interface Tool {
  program: string;
  debianPackage: string;
}

/** Every program test/e2e runs (chromium by its absolute path, as status-page.test.ts launches it). */
export const E2E_TOOLS: readonly Tool[] = [
  { program: "skopeo", debianPackage: "skopeo" },
  { program: "podman", debianPackage: "podman" },
  { program: "containerd", debianPackage: "containerd" },
  { program: "ctr", debianPackage: "containerd" },
  { program: "dockerd", debianPackage: "docker.io" },
  { program: "docker", debianPackage: "docker.io" },
  { program: "docker-registry", debianPackage: "docker-registry" },
  { program: "aria2c", debianPackage: "aria2" },
  { program: "/usr/bin/chromium", debianPackage: "chromium" },
];

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** Whether `program` is an executable path, or an executable on `searchPath`. */
export async function onPath(program: string, searchPath: string = process.env.PATH ?? ""): Promise<boolean> {
  if (isAbsolute(program)) return executable(program);
  for (const dir of searchPath.split(delimiter)) {
    if (dir !== "" && (await executable(join(dir, program)))) return true;
  }
  return false;
}

/** The tools of `tools` that are not installed. */
export async function missingTools(tools: readonly Tool[] = E2E_TOOLS, searchPath?: string): Promise<Tool[]> {
  const found = await Promise.all(tools.map((tool) => onPath(tool.program, searchPath)));
  return tools.filter((_, i) => !found[i]);
}
