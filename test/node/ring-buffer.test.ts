import { describe, expect, it } from "vitest";
import { RingBuffer } from "../../scripts/lib/stack/ring-buffer";

describe("RingBuffer", () => {
  it("Should keep the newest items, oldest first, and count the ones it dropped", () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.toArray()).toEqual([5, 6, 7]);
    expect(ring.size).toBe(3);
    expect(ring.dropped).toBe(4);
  });

  it("Should hold fewer than its capacity in order, and start over when cleared", () => {
    const ring = new RingBuffer<string>(4);
    ring.push("a");
    ring.push("b");
    expect(ring.toArray()).toEqual(["a", "b"]);
    ring.clear();
    expect(ring.toArray()).toEqual([]);
    ring.push("c");
    expect(ring.toArray()).toEqual(["c"]);
    expect(ring.dropped).toBe(0);
  });

  it("Should never hold more than its capacity over a long run", () => {
    const ring = new RingBuffer<number>(100);
    for (let i = 0; i < 100_000; i++) ring.push(i);
    expect(ring.size).toBe(100);
    expect(ring.toArray()[0]).toBe(99_900);
    expect(() => new RingBuffer(0)).toThrow(/capacity/);
  });
});
