/**
 * Vitest global setup for the real-server integration tests. It starts nothing itself (each test file calls
 * `ensureServers` for what it needs); it remembers which servers were already up, prints the one "skipped
 * because" line when Java is missing, and at the end stops exactly the servers this run started.
 * SERVERS_KEEP=1 leaves them running for the next run (they are then reused, which saves the start time).
 */
import { down, runningServers } from '../servers/harness.ts';
import { findJava } from '../servers/java.ts';
import { NO_JAVA_ENV, underCI } from './servers.ts';

export default function setup(): () => Promise<void> {
  const before = new Set(runningServers());
  const java = findJava();
  if ('reason' in java && !underCI()) {
    // Inherited by the test workers, which then skip quietly instead of each printing the same line.
    process.env[NO_JAVA_ENV] = java.reason;
    console.warn(`[servers] integration tests that need Kafka, HDFS, Elasticsearch, QuestDB or Flume are skipped: ${java.reason} (CI is not set)`);
  }
  return async function teardown(): Promise<void> {
    if (process.env.SERVERS_KEEP === '1') return;
    for (const name of runningServers().reverse()) {
      if (!before.has(name)) await down(name);
    }
  };
}
