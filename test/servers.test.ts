/**
 * The skip-or-fail rule of `ensureServers`, as pure logic: the harness's `up` is replaced so that a missing
 * prerequisite (ServerUnavailable) or a broken server (any other error) can be produced without touching the
 * real servers other tests use.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

const up = vi.fn();
vi.mock('../servers/harness.ts', async (importOriginal) => ({ ...(await importOriginal<object>()), up: (...a: unknown[]) => up(...a) }));
const { ServerUnavailable } = await import('../servers/harness.ts');
const { ensureServers, NO_JAVA_ENV } = await import('./servers.ts');

afterEach(() => {
  up.mockReset();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('ensureServers', () => {
  it('under CI, fails the run loudly when a prerequisite is missing: never a silent skip', async () => {
    vi.stubEnv('CI', 'true');
    up.mockRejectedValue(new ServerUnavailable('no Java 17+ found'));
    await expect(ensureServers(['kafka'])).rejects.toThrow('no Java 17+ found (CI is set: integration tests fail instead of being skipped)');
  });

  it('without CI, skips with one line naming the servers and the reason, printed once', async () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    up.mockRejectedValue(new ServerUnavailable('mvn not found'));
    expect(await ensureServers(['hdfs'])).toEqual({ ok: false, reason: 'mvn not found' });
    expect(await ensureServers(['hdfs'])).toEqual({ ok: false, reason: 'mvn not found' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/skipping integration tests that need hdfs: mvn not found \(CI is not set\)/);
  });

  it('without Java (noticed once by the global setup), skips Java servers quietly and still starts the others', async () => {
    vi.stubEnv('CI', 'false');
    vi.stubEnv(NO_JAVA_ENV, 'no Java 17+ found');
    up.mockResolvedValue({ outcome: 'reused' });
    expect(await ensureServers(['kafka'])).toEqual({ ok: false, reason: 'no Java 17+ found' });
    expect(up).not.toHaveBeenCalled();
    expect(await ensureServers(['influxdb'])).toEqual({ ok: true });
    expect(up).toHaveBeenCalledWith('influxdb');
  });

  it('never turns a server that fails to start into a skip, CI or not', async () => {
    vi.stubEnv('CI', '');
    up.mockRejectedValue(new Error('kafka: not ready after 120 s'));
    await expect(ensureServers(['kafka'])).rejects.toThrow('not ready after 120 s');
  });
});
