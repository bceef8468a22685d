#!/usr/bin/env node
// Entry point of the `dcnet` CLI; the TypeScript sources are compiled to dist/ by `npm ci`.
import { existsSync } from 'node:fs';
const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('dcnet: the toolkit is not built yet. Run `npm ci` (or `npm run build`) first.\n');
  process.exit(2);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv);
