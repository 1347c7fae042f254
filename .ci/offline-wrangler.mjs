#!/usr/bin/env node
// A stand-in for `wrangler kv ... --remote` on a machine without network, for the deployment dry run:
// it answers reads as an empty, freshly created namespace does and refuses every write, so a
// `frontdoor publish --remote --dry-run` that tried to change the namespace fails.
const args = process.argv.slice(2);
const [group, command, sub, operand] = args;
if (group !== "kv" || !args.includes("--remote")) {
  console.error(`offline wrangler: only \`wrangler kv ... --remote\` reads, got: ${args.join(" ")}`);
  process.exit(2);
}
if (command === "key" && sub === "list") console.log("[]");
else if (command === "key" && sub === "get") {
  console.error(`X [ERROR] A request to the Cloudflare API (/accounts/0/storage/kv/namespaces/0/values/${operand}) failed.\n\n  get: 'key not found' [code: 10009]`);
  process.exit(1);
} else {
  console.error(`offline wrangler: a dry run must not write (${args.join(" ")})`);
  process.exit(3);
}
