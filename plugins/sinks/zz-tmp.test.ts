import { test, expect } from 'vitest';
import { componentSchema } from '/work/main/agent/config/schemas.ts';
import * as A from '/work/main/agent/config/ajv.ts';
import fr from '/work/main/plugins/sinks/file-roll.ts';
import lg from '/work/main/plugins/sinks/logger.ts';
import nl from '/work/main/plugins/sinks/null.ts';
test('x', () => {
  const ajv = (Object.values(A).find((v) => typeof v === 'function') as any)();
  for (const p of [fr, lg, nl]) {
    const v = ajv.compile(componentSchema('sink', p.schema));
    const c: any = { type: p.type, channel: 'c', directory: 'd' };
    if (p !== fr) delete c.directory;
    expect(v(c), JSON.stringify(v.errors)).toBe(true);
    console.log(c);
  }
});
