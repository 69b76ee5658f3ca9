// Prints the gzip -9 size of the built runtime and exits 1 over the budget.
// `gzip -9c runtime.js` also stores the file name in its header, so that is
// counted too: the number printed is never below what the gzip tool shows.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 2048;
const name = "runtime.js";
const raw = readFileSync(new URL("../front/static/" + name, import.meta.url));
const size = gzipSync(raw, { level: 9 }).length + name.length + 1;
console.log(`${name}: ${raw.length} B, ${size} B gzip -9 (budget ${BUDGET} B)`);
if (size > BUDGET) {
  console.error(`${name} is ${size - BUDGET} B over budget`);
  process.exit(1);
}
