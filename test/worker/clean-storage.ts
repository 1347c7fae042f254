import { reset } from "cloudflare:test";
import { beforeEach } from "vitest";

// Runs before every worker test, ahead of the test file's own hooks: what one test wrote, the next does not read.
beforeEach(() => reset());
