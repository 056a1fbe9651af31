import { afterEach, describe, expect, it } from 'vitest';
import { secretValues } from '../log.ts';
import { MetricsRegistry } from './registry.ts';
import { startMetricsServer, type MetricsServerOptions } from './server.ts';

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(metrics: MetricsRegistry, o: Partial<MetricsServerOptions> = {}) {
  const server = await startMetricsServer(metrics, { host: '127.0.0.1', port: 0, healthy: () => true, ...o });
  servers.push(server);
  expect(server.port).toBeGreaterThan(0);
  return (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${server.port}${path}`, init);
}

function registry() {
  const m = new MetricsRegistry(false);
  const src = m.component('ag', 's', 'source', 'gen');
  const ch = m.component('ag', 'c', 'channel', 'memory');
  src.state = 'running';
  ch.state = 'running';
  src.add('events_accepted_total', 5);
  return { m, src, ch };
}

describe('metrics server', () => {
  it('serves Prometheus text on /metrics with the registry content type', async () => {
    const { m } = registry();
    const get = await serve(m);
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(m.contentType);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toContain('fintrans_source_events_accepted_total{agent="ag",component="s",kind="source",type="gen"} 5');
  });

  it('answers /health with 200 while healthy and 503 naming the components that are down', async () => {
    const { m, ch } = registry();
    let healthy = true;
    const get = await serve(m, { healthy: () => healthy });
    let res = await get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'UP', down: [] });
    ch.state = 'failed';
    healthy = false;
    res = await get('/health');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ status: 'DOWN', down: ['channel:c:failed'] });
  });

  it('serves Flume-style JSON on /status, merged with the extra per-channel fields', async () => {
    const { m } = registry();
    const get = await serve(m, { extraStatus: () => ({ 'CHANNEL.c': { ByteSize: '12' } }) });
    for (const path of ['/status', '/status/', '/status?pretty=1']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      const body = (await res.json()) as Record<string, Record<string, string>>;
      expect(body['SOURCE.s']).toMatchObject({ Type: 'SOURCE', EventAcceptedCount: '5', State: 'running' });
      expect(body['CHANNEL.c']).toMatchObject({ Type: 'CHANNEL', ChannelSize: '0', ByteSize: '12' });
    }
  });

  it('answers 404 for other paths and 405 for methods other than GET and HEAD', async () => {
    const { m } = registry();
    const get = await serve(m);
    expect((await get('/')).status).toBe(404);
    expect((await get('/metricsx')).status).toBe(404);
    expect((await get('/metrics', { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await get('/health', { method: 'DELETE' })).status).toBe(405);
    expect((await get('/health', { method: 'HEAD' })).status).toBe(200);
  });

  it('requires the bearer token on every path when one is configured', async () => {
    const { m } = registry();
    const get = await serve(m, { token: 's3cret' });
    for (const path of ['/metrics', '/health', '/status', '/nope']) {
      const res = await get(path);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await get('/metrics', { headers: { authorization: 'Bearer wrong!' } })).status).toBe(401);
    expect((await get('/metrics', { headers: { authorization: 'Bearer s3cret-longer' } })).status).toBe(401);
    expect((await get('/metrics', { headers: { authorization: 's3cret' } })).status).toBe(401);
    expect((await get('/metrics', { method: 'POST', headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const ok = await get('/metrics', { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('fintrans_source_events_accepted_total');
    expect((await get('/status', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });

  it('answers 500 with the message when building a response fails', async () => {
    const { m } = registry();
    const get = await serve(m, {
      healthy: () => {
        throw new Error('health probe broke');
      },
    });
    const res = await get('/health');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('health probe broke');
  });

  it('never serves a known secret or an authorization credential a component error quotes', async () => {
    const { m, src } = registry();
    secretValues.add('srv-test-secret-4711', '${SRV_SECRET}');
    src.lastError = 'server said: bad token srv-test-secret-4711 (you sent Basic dTpzM2NyM3Q=)';
    const get = await serve(m, {
      healthy: () => {
        throw new Error('probe failed with srv-test-secret-4711');
      },
    });
    const status = await (await get('/status')).text();
    expect(status).toContain('server said: bad token ${SRV_SECRET} (you sent Basic [redacted])');
    expect(status).not.toContain('srv-test-secret-4711');
    expect(await (await get('/health')).text()).toBe('probe failed with ${SRV_SECRET}');
  });
});
