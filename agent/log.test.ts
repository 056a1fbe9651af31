import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, RateLimiter, SecretValues, secretValues } from './log.ts';

describe('RateLimiter', () => {
  it('allows one line per interval and reports how many were suppressed in between', () => {
    const r = new RateLimiter(1000);
    expect(r.allow('k', 0)).toBe(0);
    expect(r.allow('k', 1)).toBe(-1);
    expect(r.allow('k', 500)).toBe(-1);
    expect(r.allow('k', 999)).toBe(-1);
    expect(r.allow('k', 1000)).toBe(3);
    expect(r.allow('k', 1001)).toBe(-1);
    expect(r.allow('k', 2500)).toBe(1);
    expect(r.allow('k', 5000)).toBe(0);
  });

  it('limits each key independently', () => {
    const r = new RateLimiter(1000);
    expect(r.allow('a', 0)).toBe(0);
    expect(r.allow('b', 10)).toBe(0);
    expect(r.allow('a', 20)).toBe(-1);
    expect(r.allow('b', 30)).toBe(-1);
    expect(r.allow('b', 40)).toBe(-1);
    expect(r.allow('a', 1000)).toBe(1);
    expect(r.allow('b', 1010)).toBe(2);
  });

  it('measures the interval from the last line logged, not from the last suppressed call', () => {
    const r = new RateLimiter(100);
    expect(r.allow('k', 0)).toBe(0);
    for (let t = 10; t < 100; t += 10) expect(r.allow('k', t)).toBe(-1);
    expect(r.allow('k', 100)).toBe(9);
  });

  it('defaults to now and a 10 s interval', () => {
    const r = new RateLimiter();
    expect(r.allow('k')).toBe(0);
    expect(r.allow('k')).toBe(-1);
  });
});

describe('SecretValues', () => {
  it('replaces every occurrence of a known secret with its label, raw or JSON-escaped', () => {
    const s = new SecretValues();
    s.add('hunter2-"quoted"', '${PW}');
    expect(s.scrub('a hunter2-"quoted" b hunter2-"quoted"')).toBe('a ${PW} b ${PW}');
    expect(s.scrub(JSON.stringify({ e: 'x hunter2-"quoted"' }))).toBe('{"e":"x ${PW}"}');
    s.add('abc');
    expect(s.scrub('abc')).toBe('abc'); // too short to scrub from free text
  });

  it('redacts credentials in authorization form, and leaves prose alone', () => {
    const s = new SecretValues();
    for (const [text, want] of [
      ['sent authorization=Basic ZWxhc3RpYzpzM2Ny== url', 'sent authorization=Basic [redacted] url'],
      ['ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXh0', 'ApiKey [redacted]'],
      ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y', 'Authorization: Bearer [redacted]'],
      ['Token s3cr3tvalue', 'Token [redacted]'],
      ['Basic authentication failed', 'Basic authentication failed'],
      ['Token *** url', 'Token *** url'],
      ['Bearer [redacted]', 'Bearer [redacted]'],
    ]) expect(s.scrub(text!)).toBe(want);
  });

  it('is applied to every line a logger writes, whatever field holds the secret', () => {
    let out = '';
    const log = createLogger({ destination: new Writable({ write: (c, _e, done) => ((out += c), done()) }) });
    secretValues.add('planted-log-secret-123', '${LOG_SECRET}');
    log.error({ error: 'server said: planted-log-secret-123', nested: { url: 'http://u:planted-log-secret-123@h' } }, 'failed with planted-log-secret-123');
    expect(out).not.toContain('planted-log-secret-123');
    expect(out).toContain('server said: ${LOG_SECRET}');
  });
});
