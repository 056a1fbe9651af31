#!/usr/bin/env node
// Runs the compiled CLI (npm install builds dist/ through the prepare script).
import { main } from '../dist/agent/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let pino flush; then leave even if a plugin left a handle open.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (error) => {
    process.stderr.write(`Fatal: ${error?.message ?? error}\n`);
    process.exit(1);
  },
);
