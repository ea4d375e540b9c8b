#!/usr/bin/env node
// The compiled CLI lives in dist/ (npm run build); this shim keeps the bin path stable.
let cli;
try {
  cli = require('../dist/cli/main.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    console.error('segments: the CLI is not built yet — run `npm run build` first (it compiles the TypeScript to dist/)');
    process.exit(4);
  }
  throw error;
}
cli.runCli(process.argv.slice(2));
