// The `skiff` command line: one subcommand per process or tool. Each is
// imported only when chosen, so the agent never loads the control plane.

const USAGE = `usage: skiff <command> [flags]

commands:
  server              API server, storage, scheduler and controllers
  agent               the node agent
  up                  start a single-host cluster and wait until its node is Ready
  down                stop it and remove everything it made
  status              the components skiff up runs: PID, uptime, restarts
  supervise           run a command and restart it with back-off when it exits (skiff up uses it)
  hollow-nodes        fake nodes that run pods without containers (control-plane tests and figures)
  lab                 a multi-node lab on this host (lab up --nodes N, lab down)
  csi-driver          the bundled CSI driver (loop and dir volumes)
  token               join tokens: create (prints the join command), list, delete
  snapshot            snapshots of the datastore: save, list, delete (restore: server --cluster-reset)
  install             skiff on this host as systemd services (install server, install agent --server … --token …)
  uninstall           remove what install made, pods and all
`;

const commands: Record<string, (argv: string[]) => Promise<void>> = {
  server: async (argv) => (await import('./server.ts')).runServer(argv),
  agent: async (argv) => (await import('./agent.ts')).runAgent(argv),
  up: async (argv) => (await import('./up.ts')).runUp(argv),
  down: async (argv) => (await import('./down.ts')).runDown(argv),
  status: async (argv) => (await import('./status.ts')).runStatus(argv),
  supervise: async (argv) => (await import('./supervise.ts')).runSupervise(argv),
  'hollow-nodes': async (argv) => (await import('./hollow-nodes.ts')).runHollowNodes(argv),
  lab: async (argv) => (await import('./lab.ts')).runLab(argv),
  'csi-driver': async (argv) => (await import('./csi-driver.ts')).runCsiDriver(argv),
  token: async (argv) => (await import('./token.ts')).runToken(argv),
  snapshot: async (argv) => (await import('./snapshot.ts')).runSnapshot(argv),
  install: async (argv) => (await import('./install.ts')).runInstall(argv),
  uninstall: async (argv) => (await import('./uninstall.ts')).runUninstall(argv),
};

const [name, ...rest] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  process.stderr.write(USAGE);
  process.exit(name === undefined || name === '--help' || name === '-h' ? 0 : 2);
}
try {
  await command(rest);
} catch (err) {
  process.stderr.write(`skiff ${name}: ${(err as Error).message}\n`);
  process.exit(1);
}
