/**
 * The `file` channel: a durable write-ahead log that survives kill -9 (and, with fsync per commit, a machine
 * crash), recovers in time proportional to what is queued, and keeps disk use to the backlog plus one segment.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { definePlugin, durationSchema, toMillis } from '../../agent/index.ts';
import { FileChannel } from './file/channel.ts';
import { DiskGuard } from './file/disk-space.ts';
import { lockDirectory } from './file/lock.ts';
import { SegmentLog } from './file/segment-log.ts';

interface FileConfig {
  checkpointDir?: string;
  dataDirs?: string[];
  capacity: number;
  transactionCapacity: number;
  maxFileSize: number;
  minimumRequiredSpace: number;
  fsync: 'commit' | 'interval';
  fsyncIntervalMs: number;
  keepAlive: number | string;
  maxCachedEvents: number;
}

export default definePlugin<'channel', FileConfig>({
  kind: 'channel',
  type: 'file',
  description: 'Durable channel: a checksummed write-ahead log with group commit; committed events survive a crash and are replayed on start.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      checkpointDir: { type: 'string', description: 'Directory for the lock and metadata. Default: file-channel/<channel name>/checkpoint beside the config file. Relative paths resolve against the config file.' },
      dataDirs: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Directories for the log segments (round-robin across them). Default: file-channel/<channel name>/data beside the config file.' },
      capacity: { type: 'integer', minimum: 1, default: 1000000, description: 'Maximum events held (queued plus taken but not committed).' },
      transactionCapacity: { type: 'integer', minimum: 1, default: 10000, description: 'Maximum events in one put or take transaction.' },
      maxFileSize: { type: 'integer', minimum: 1048576, default: 67108864, description: 'Bytes per segment file before a new one is started; fully taken segments are deleted.' },
      minimumRequiredSpace: { type: 'integer', minimum: 0, default: 67108864, description: 'Bytes of free disk space to keep; below it puts wait (gauge disk_space_low) instead of filling the disk. 0 disables the check.' },
      fsync: { enum: ['commit', 'interval'], default: 'commit', description: '"commit": a put is acknowledged only after fdatasync (concurrent commits share one); "interval": after the write, with an fdatasync every fsyncIntervalMs (survives kill -9, not a machine crash).' },
      fsyncIntervalMs: { type: 'integer', minimum: 1, default: 1000, description: 'Milliseconds between fdatasyncs with fsync: interval.' },
      keepAlive: durationSchema('How long a put waits for room (capacity or disk space) before failing with a retriable error.', 's', 3),
      maxCachedEvents: { type: 'integer', minimum: 0, default: 100000, description: 'Events kept in memory after their put for fast takes; beyond it events are read back from disk.' },
    },
  },
  create(config, ctx) {
    if (config.transactionCapacity > config.capacity) throw new Error(`transactionCapacity (${config.transactionCapacity}) must not exceed capacity (${config.capacity}).`);
    const base = resolve(ctx.configDir, 'file-channel', ctx.name);
    const checkpointDir = resolve(ctx.configDir, config.checkpointDir ?? resolve(base, 'checkpoint'));
    const dataDirs = (config.dataDirs ?? [resolve(base, 'data')]).map((d) => resolve(ctx.configDir, d));
    const owner = `file channel "${ctx.name}" of agent "${ctx.agent}"`;
    const releases: (() => void)[] = [];
    try {
      for (const dir of [...new Set([checkpointDir, ...dataDirs])]) {
        mkdirSync(dir, { recursive: true });
        releases.push(lockDirectory(dir, owner));
      }
    } catch (error) {
      for (const r of releases) r();
      throw error;
    }
    const fsyncLatency = ctx.metrics.histogram('fsync_seconds', 'Latency of each fdatasync of the log.');
    const log = new SegmentLog(dataDirs, config.maxFileSize, config.fsync, config.fsyncIntervalMs, (s) => fsyncLatency.observe(s));
    const disk = new DiskGuard(dataDirs, config.minimumRequiredSpace);
    return new FileChannel(
      { capacity: config.capacity, transactionCapacity: config.transactionCapacity, keepAliveMs: toMillis(config.keepAlive, 's'), fsync: config.fsync, maxCachedEvents: config.maxCachedEvents },
      log,
      disk,
      ctx,
      () => releases.forEach((r) => r()),
    );
  },
});
