import { defineConfig } from 'vitest/config';

// Test files that talk to real servers from the harness. They run one file at a time, after the unit tests:
// several of them stop and restart a server mid-test, which would disturb another file using it at that moment.
const integration = ['test/{kafka-influxdb-conf,kafka,kafka-exactly-once,kafka-semantics,influxdb,elasticsearch,grafana,hdfs,processing,flume-compat,scale-out,security,influxdb-tls,hdfs-tls,elasticsearch-tls}.test.ts'];
// The fault suite (`npm run test:faults`) kills agents and servers on purpose: last, one file at a time.
const faults = ['test/faults/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['agent/**/*.test.ts', 'plugins/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['node_modules/**', 'dist/**', ...integration, ...faults],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: integration,
          fileParallelism: false,
          testTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'faults',
          include: faults,
          fileParallelism: false,
          testTimeout: 300_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
