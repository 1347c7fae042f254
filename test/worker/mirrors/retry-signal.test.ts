import { describe, expect, it } from "vitest";
import { RetrySignal, SUSPECT_PERIOD_MS, SUSPECT_THRESHOLD } from "../../../src/mirrors/retry-signal";

const T0 = Date.UTC(2026, 11, 1, 12);

describe("RetrySignal", () => {
  it("Should report a mirror once its come-backs reach the threshold, with the period's start and count", () => {
    const signal = new RetrySignal();
    const reports = Array.from({ length: SUSPECT_THRESHOLD }, (_, i) => signal.comeBack("bad", T0 + i * 1000));
    expect(reports.slice(0, -1)).toEqual(Array(SUSPECT_THRESHOLD - 1).fill(null));
    expect(reports.at(-1)).toEqual({ mirror: "bad", since: new Date(T0).toISOString(), retries: SUSPECT_THRESHOLD });
  });

  it("Should report a mirror at most once per period, however many come-backs", () => {
    const signal = new RetrySignal();
    const reports = Array.from({ length: 500 }, (_, i) => signal.comeBack("bad", T0 + i * 100)).filter((report) => report !== null);
    expect(reports).toHaveLength(1);
  });

  it("Should report again in a later period", () => {
    const signal = new RetrySignal(2);
    const times = [0, 1, 2, SUSPECT_PERIOD_MS + 1, SUSPECT_PERIOD_MS + 2].map((offset) => T0 + offset);
    expect(times.map((time) => signal.comeBack("bad", time)?.retries ?? null)).toEqual([null, 2, null, null, 2]);
  });

  it("Should not let come-backs spread thinly over periods add up", () => {
    const signal = new RetrySignal(3);
    const reports = [0, 1, 2, 3].map((period) => signal.comeBack("flaky", T0 + period * SUSPECT_PERIOD_MS));
    expect(reports).toEqual([null, null, null, null]);
  });

  it("Should count each mirror apart", () => {
    const signal = new RetrySignal(2);
    expect([signal.comeBack("a", T0), signal.comeBack("b", T0), signal.comeBack("a", T0)?.mirror]).toEqual([null, null, "a"]);
  });
});
