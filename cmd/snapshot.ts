import { parseArgs } from 'node:util';
import { hostSettings } from './config-file.ts';
import { SERVER_OPTIONS } from './options.ts';
import { DEFAULT_SNAPSHOT_NAME, defaultSnapshotDir, deleteSnapshots, listSnapshots, saveSnapshot } from '../control-plane/storage/snapshots/index.ts';

export const SNAPSHOT_USAGE = `skiff snapshot: snapshots of the server's datastore (as k3s's etcd-snapshot)

  skiff snapshot save [--name ${DEFAULT_SNAPSHOT_NAME}]   a snapshot now, named <name>-<host>-<unix time>
  skiff snapshot list                           the snapshots, newest first
  skiff snapshot delete NAME ...

  --snapshot-dir DIR            where snapshots are kept (beside a SQLite store: <its directory>/snapshots)
  --datastore-endpoint URL      the store: sqlite:///path or etcd://host:port[,…] (the server's, from the config file)

Restore with the server stopped: skiff server --cluster-reset --cluster-reset-restore-path FILE
`;

export async function runSnapshot(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string', default: DEFAULT_SNAPSHOT_NAME },
      'snapshot-dir': { type: 'string' },
      'datastore-endpoint': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [verb, ...names] = positionals;
  if (values.help || !verb) {
    process.stdout.write(SNAPSHOT_USAGE);
    return;
  }
  const settings = await hostSettings();
  const endpoint = values['datastore-endpoint'] ?? (settings['datastore-endpoint'] as string | undefined) ?? SERVER_OPTIONS['datastore-endpoint'].default;
  const dir = values['snapshot-dir'] ?? (settings['snapshot-dir'] as string | undefined) ?? defaultSnapshotDir(endpoint);
  switch (verb) {
    case 'save': {
      const s = await saveSnapshot({ endpoint, dir, name: values.name });
      process.stdout.write(`Snapshot ${s.name} saved.\n`);
      return;
    }
    case 'list': {
      const rows = (await listSnapshots(dir)).map((s) => [s.name, `file://${s.location}`, String(s.size), s.created.toISOString()]);
      const table = [['Name', 'Location', 'Size', 'Created'], ...rows];
      const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length))) ?? [];
      process.stdout.write(
        `${table
          .map((r) =>
            r
              .map((c, i) => c.padEnd(widths[i] ?? 0))
              .join('  ')
              .trimEnd(),
          )
          .join('\n')}\n`,
      );
      return;
    }
    case 'delete':
      if (!names.length) throw new Error('name the snapshots to delete (skiff snapshot list shows them)');
      await deleteSnapshots(dir, names);
      for (const n of names) process.stdout.write(`Snapshot ${n} deleted.\n`);
      return;
    default:
      throw new Error(`unknown snapshot command "${verb}": save, list or delete`);
  }
}
