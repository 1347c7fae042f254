import { missingTools } from "./tools";

/**
 * Before any end-to-end test: every real client and daemon they run must be installed. A missing one
 * stops the project with the Debian packages to install, instead of a bare `spawn skopeo ENOENT` later.
 */
export default async function checkTools(): Promise<void> {
  const missing = await missingTools();
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => tool.debianPackage))];
  throw new Error(
    `The end-to-end tests run real clients; not installed: ${missing.map((tool) => tool.program).join(", ")}.\n` +
      `Install them (Debian, as root): apt-get install -y ${packages.join(" ")}\n` +
      "(.ci/run installs every package the tests need.)",
  );
}
