import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startFaultControl, type FaultControl } from "../../scripts/lib/stack/fault-control";
import { NO_FAULT } from "../../scripts/lib/stack/faults";
import { startMirrorServer, type MirrorServer } from "../../scripts/lib/stack/mirror-server";

let dir: string;
let mirror: MirrorServer;
let control: FaultControl;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fault-control-"));
  mirror = await startMirrorServer({ root: dir });
  control = await startFaultControl(new Map([["de-fra", mirror]]));
});

afterAll(async () => {
  await control.stop();
  await mirror.stop();
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await mirror.setFault(NO_FAULT);
});

describe("fault control endpoint", () => {
  it("Should listen on 127.0.0.1 only", () => {
    expect(new URL(control.url).hostname).toBe("127.0.0.1");
  });

  it("Should list each mirror's fault and every fault there is", async () => {
    const text = await (await fetch(`${control.url}/`)).text();
    expect(text).toMatch(/^de-fra\s+none$/m);
    expect(text).toMatch(/^\s+hang-on-GET\s+/m);
  });

  it("Should switch a mirror's fault with PUT and clear it with DELETE", async () => {
    const put = await fetch(`${control.url}/de-fra`, { method: "PUT", body: "slow:2000" });
    expect(put.status).toBe(200);
    expect(mirror.fault).toEqual({ name: "slow", bytesPerSecond: 2000 });
    expect((await fetch(`${control.url}/de-fra`, { method: "DELETE" })).status).toBe(200);
    expect(mirror.fault).toEqual(NO_FAULT);
  });

  it("Should answer 400 for an unknown fault and leave the mirror as it was", async () => {
    const response = await fetch(`${control.url}/de-fra`, { method: "PUT", body: "meltdown" });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("unknown fault");
    expect(mirror.fault).toEqual(NO_FAULT);
  });

  it("Should answer 404 for a mirror it does not control", async () => {
    expect((await fetch(`${control.url}/us-iad`, { method: "PUT", body: "refused" })).status).toBe(404);
  });
});
