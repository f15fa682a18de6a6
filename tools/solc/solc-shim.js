#!/usr/bin/env node
// Command-line face of the npm `solc` (the official compiler built to WebAssembly) for
// py-solc-x / brownie: answers `--version` and `--standard-json` (stdin -> stdout).
// Imports are read from disk relative to the working directory, --base-path,
// --include-path and --allow-paths, which is how the native binary resolves them.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);
const out = (text) => { const b = Buffer.from(text); let o = 0; while (o < b.length) o += fs.writeSync(1, b, o); };

if (args.includes('--version')) {
  out(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
  process.exit(1);
}
const roots = [process.cwd()];
for (let i = 0; i < args.length; i++) {
  if (['--base-path', '--include-path', '--allow-paths'].includes(args[i]) && args[i + 1]) {
    for (const p of args[i + 1].split(',')) if (p) roots.push(path.resolve(p));
  }
}
function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
  for (const c of candidates) {
    try { return { contents: fs.readFileSync(c, 'utf8') }; } catch (_) { /* try next root */ }
  }
  return { error: `File not found: ${importPath}` };
}
const input = fs.readFileSync(0, 'utf8');
out(solc.compile(input, { import: findImports }));
process.exit(0);
