/**
 * `npm run servers -- up|down|status [name…] [--keep-data]`
 *
 * up      fetch (once), configure and start the named servers, one after the other, waiting for readiness; a server
 *         already up is reused. --keep-data keeps the data of the previous run instead of starting empty.
 * down    stop the named servers, or every server the harness started when no name is given.
 * status  one line per server: state, PIDs, RSS, and why it is not ready.
 *
 * Exit code 1 when anything fails; a failed start prints the last 50 lines of the server's log.
 */
import { down, runningServers, status, up } from './harness.ts';
import { SERVERS, serverDef } from './registry.ts';

const USAGE = `usage: npm run servers -- up|down|status [name…] [--keep-data]
servers: ${SERVERS.map((d) => d.name).join(', ')}`;

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const keepData = rest.includes('--keep-data');
  const names = rest.filter((a) => !a.startsWith('--'));
  for (const name of names) serverDef(name); // unknown names fail before anything starts
  switch (command) {
    case 'up':
      if (!names.length) {
        console.error(`name the servers to start\n${USAGE}`);
        return 2;
      }
      for (const name of names) {
        const r = await up(name, { keepData });
        if (r.outcome !== 'started') console.log(`${name}: already up (${r.outcome === 'external' ? 'not started by the harness' : 'reused'})`);
        else console.log(`${name}: up in ${(r.ms / 1000).toFixed(1)} s, RSS ${mib(r.rssBytes)}`);
      }
      return 0;
    case 'down':
      for (const name of names.length ? names : runningServers().reverse()) await down(name);
      return 0;
    case 'status':
      for (const name of names.length ? names : SERVERS.map((d) => d.name)) {
        const s = await status(name);
        const pids = s.pids.length ? ` pid ${s.pids.join(',')}, RSS ${mib(s.rssBytes)},` : '';
        console.log(`${name.padEnd(14)} ${s.state.padEnd(9)}${pids} ${s.detail}  [${s.version}]`);
      }
      return 0;
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`servers: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
