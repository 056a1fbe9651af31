/** Every server the harness knows, in the order `up`/`down` without names use. */
import { kafka } from './kafka.ts';
import type { ServerDef } from './layout.ts';

export const SERVERS: readonly ServerDef[] = [kafka];

export function serverDef(name: string): ServerDef {
  const def = SERVERS.find((d) => d.name === name);
  if (!def) throw new Error(`unknown server "${name}"; known: ${SERVERS.map((d) => d.name).join(', ')}`);
  return def;
}
