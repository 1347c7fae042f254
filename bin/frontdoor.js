#!/usr/bin/env node
// Runs the TypeScript CLI (scripts/frontdoor.ts) through tsx's loader.
import { register } from "tsx/esm/api";

register();
await import("../scripts/frontdoor.ts");
