import { exports } from "cloudflare:workers";
import { expect } from "vitest";

export const FRONTDOOR = "http://frontdoor.test";

/** Sends a request to the worker's own fetch handler inside workerd. */
export function request(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${FRONTDOOR}${path}`, { redirect: "manual", ...init }));
}

/** The `{"errors":[...]}` body's first entry. */
export async function firstError(response: Response): Promise<{ code: string; message: string; detail: unknown }> {
  const body = (await response.json()) as { errors: Array<{ code: string; message: string; detail: unknown }> };
  expect(body.errors).toHaveLength(1);
  return body.errors[0]!;
}
