/**
 * Vitest global setup for the real-server integration tests. It starts nothing itself (each test file calls
 * `ensureServers` for what it needs); it gives the run an id that `ensureServers` writes beside every server it
 * starts, prints the one "skipped because" line when Java is missing, and at the end stops exactly the servers
 * this run started (not one that another run, or a person, started while this one was going).
 * SERVERS_KEEP=1 leaves them running for the next run (they are then reused, which saves the start time).
 */
import { randomUUID } from 'node:crypto';
import { down, runningServers } from '../servers/harness.ts';
import { findJava } from '../servers/java.ts';
import { NO_JAVA_ENV, RUN_ID_ENV, startedByRun, underCI } from './servers.ts';

export default function setup(): () => Promise<void> {
  const run = randomUUID();
  process.env[RUN_ID_ENV] = run; // inherited by the test workers
  const java = findJava();
  if ('reason' in java && !underCI()) {
    // Inherited by the test workers, which then skip quietly instead of each printing the same line.
    process.env[NO_JAVA_ENV] = java.reason;
    console.warn(`[servers] integration tests that need Kafka, HDFS, Elasticsearch, QuestDB or Flume are skipped: ${java.reason} (CI is not set)`);
  }
  return async function teardown(): Promise<void> {
    if (process.env.SERVERS_KEEP === '1') return;
    for (const name of runningServers().reverse()) {
      if (startedByRun(name, run)) await down(name);
    }
  };
}
