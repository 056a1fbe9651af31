import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelCompliance } from '../../agent/testing/compliance.ts';
import { testContext } from '../../agent/testing/context.ts';
import file from './file.ts';

let n = 0;
channelCompliance('file', async (o) => {
  const dir = mkdtempSync(join(tmpdir(), 'fta-fc-'));
  return file.create(
    { ...o, checkpointDir: join(dir, 'cp'), dataDirs: [join(dir, 'data')], maxFileSize: 1 << 20, minimumRequiredSpace: 0, fsync: 'commit', fsyncIntervalMs: 1000, maxCachedEvents: 100000 },
    testContext('channel', 'file', { name: `fc${n++}` }),
  ) as never;
});
