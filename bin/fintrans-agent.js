#!/usr/bin/env node
// Runs the compiled CLI (npm install builds dist/ through the prepare script).
// A SIGTERM/SIGINT that arrives while the CLI is still loading is held and handed to it once its own handlers are in
// place, so a supervisor that stops the agent right after starting it still gets a graceful stop (exit 0).
const early = [];
const hold = (signal) => early.push(signal);
process.on('SIGTERM', hold);
process.on('SIGINT', hold);
const { main } = await import('../dist/agent/cli.js');

const done = main(process.argv.slice(2)); // `run` installs its signal handlers synchronously, before its first await
process.off('SIGTERM', hold);
process.off('SIGINT', hold);
for (const signal of early) process.emit(signal, signal);
done.then(
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
