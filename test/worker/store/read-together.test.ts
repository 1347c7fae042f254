import { describe, expect, it } from "vitest";
import { readTogether } from "../../../src/store/read-together";

describe("readTogether", () => {
  it("Should return every value in order", async () => {
    await expect(readTogether([Promise.resolve(1), "two", Promise.resolve(null)])).resolves.toEqual([1, "two", null]);
  });

  it("Should rethrow a failure only after every other read has settled", async () => {
    let slowSettled = false;
    const slow = new Promise<string>((resolve) => setTimeout(() => resolve("late"), 20)).then((value) => {
      slowSettled = true;
      return value;
    });
    await expect(readTogether([Promise.reject(new Error("missing")), slow])).rejects.toThrow("missing");
    expect(slowSettled).toBe(true);
  });
});
