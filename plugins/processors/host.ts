/**
 * Flume's host interceptor: tags each event with the machine it passed through, so that a collector tier
 * receiving from many agents can tell them apart.
 */
import { hostname, networkInterfaces } from 'node:os';
import { definePlugin } from '../../agent/index.ts';

export interface HostConfig {
  hostHeader: string;
  useIP: boolean;
  preserveExisting: boolean;
}

/**
 * The machine's address as other hosts would see it: the first non-internal IPv4 address, else the first
 * non-internal IPv6 one, else loopback. Flume resolves its own hostname instead, which on many Linux systems
 * yields 127.0.1.1 from /etc/hosts: a value that identifies nothing.
 */
export function localAddress(interfaces = networkInterfaces()): string {
  let v6: string | undefined;
  for (const list of Object.values(interfaces)) {
    for (const info of list ?? []) {
      if (info.internal) continue;
      if (info.family === 'IPv4') return info.address;
      // Link-local IPv6 addresses (fe80::) are only meaningful together with an interface name.
      if (v6 === undefined && !info.address.toLowerCase().startsWith('fe80:')) v6 = info.address;
    }
  }
  return v6 ?? '127.0.0.1';
}

export default definePlugin<'processor', HostConfig>({
  kind: 'processor',
  type: 'host',
  description: "Sets a header to this machine's IP address or hostname (Flume's host interceptor).",
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      hostHeader: {
        description: 'Header that receives the address or hostname.',
        type: 'string',
        minLength: 1,
        default: 'host',
      },
      useIP: {
        description:
          'Write the IP address (the first non-internal IPv4 address, else IPv6, else 127.0.0.1) instead of the hostname.',
        type: 'boolean',
        default: true,
      },
      preserveExisting: {
        description: 'Keep the header when the event already has it (for example set by an upstream agent).',
        type: 'boolean',
        default: false,
      },
    },
    required: [],
  },
  create(config, ctx) {
    // Resolved once: interfaces rarely change under a running agent, and a lookup per batch would cost a syscall.
    const host = config.useIP ? localAddress() : hostname();
    ctx.log.debug({ host }, 'Host header value resolved.');
    const name = config.hostHeader;
    const preserve = config.preserveExisting;
    return {
      process(events) {
        for (let i = 0; i < events.length; i++) {
          const headers = events[i]!.headers;
          if (preserve && headers[name] !== undefined) continue;
          headers[name] = host;
        }
        return events;
      },
    };
  },
});
