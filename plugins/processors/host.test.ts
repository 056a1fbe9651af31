import { hostname, networkInterfaces } from 'node:os';
import { Ajv } from 'ajv';
import { expect, test } from 'vitest';
import { Event } from '../../agent/index.ts';
import { recordingProcessContext } from '../../agent/testing/context.ts';
import host, { type HostConfig, localAddress } from './host.ts';

function configOf(partial: Partial<HostConfig>): HostConfig {
  const config = structuredClone(partial);
  const validate = new Ajv({ useDefaults: true, strict: false }).compile(host.schema);
  if (!validate(config)) throw new Error(JSON.stringify(validate.errors));
  return Object.freeze(config) as HostConfig;
}

async function run(partial: Partial<HostConfig>, events: Event[]): Promise<Event[]> {
  const ctx = recordingProcessContext('host');
  const processor = await host.create(configOf(partial), ctx);
  return processor.process(events, ctx);
}

test('defaults follow Flume', () => {
  expect(configOf({})).toEqual({ hostHeader: 'host', useIP: true, preserveExisting: false });
});

test("sets the machine's IP address by default", async () => {
  const out = await run({}, [Event.fromText('a'), Event.fromText('b')]);
  const ip = out[0]!.headers.host!;
  const known = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  expect([...known, '127.0.0.1']).toContain(ip);
  expect(out[1]!.headers.host).toBe(ip);
});

test('sets the hostname when useIP is false, in the configured header', async () => {
  const [event] = await run({ useIP: false, hostHeader: 'agent_host' }, [Event.fromText('a')]);
  expect(event!.headers).toEqual({ agent_host: hostname() });
});

test('overwrites an existing header unless preserveExisting', async () => {
  const replaced = await run({ useIP: false }, [Event.fromText('a', { host: 'upstream' })]);
  expect(replaced[0]!.headers.host).toBe(hostname());
  const kept = await run({ useIP: false, preserveExisting: true }, [Event.fromText('a', { host: 'upstream' })]);
  expect(kept[0]!.headers.host).toBe('upstream');
});

test('prefers a non-internal IPv4 address, then IPv6 (not link-local), then loopback', () => {
  const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
    ({ address, family, internal, netmask: '', mac: '', cidr: null }) as never;
  expect(localAddress({ lo: [nic('127.0.0.1', 'IPv4', true)], eth0: [nic('fe80::1', 'IPv6'), nic('2001:db8::5', 'IPv6'), nic('10.0.0.5', 'IPv4')] })).toBe('10.0.0.5');
  expect(localAddress({ eth0: [nic('fe80::1', 'IPv6'), nic('2001:db8::5', 'IPv6')] })).toBe('2001:db8::5');
  expect(localAddress({ lo: [nic('127.0.0.1', 'IPv4', true)] })).toBe('127.0.0.1');
});
