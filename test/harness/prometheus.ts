// Debian's Prometheus as a test's scraper: HTTPS jobs with a bearer token
// and the cluster CA, scraping each second, in a directory of its own that
// goes with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from '../../lab/testbed/index.ts';

export interface ScrapeJob {
  name: string;
  /** host:port */
  target: string;
  metricsPath?: string;
}

export interface PrometheusFixture {
  /** an instant query's samples (none while Prometheus is not answering yet) */
  query(promql: string): Promise<{ value: [number, string] }[]>;
  /** what the scrapes said of a metric family (its type, help and unit), by family name */
  metadata(family: string): Promise<{ type: string; help: string; unit: string }[]>;
}

/** A Prometheus started before the tests of a file (once `setup` has named its jobs and credentials), killed after them. */
export function usePrometheus(setup: () => Promise<{ token: string; ca: Buffer | string; jobs: ScrapeJob[] }>): PrometheusFixture {
  let dir = '';
  let port = 0;
  let prometheus: ChildProcess | undefined;
  beforeAll(async () => {
    const { token, ca, jobs } = await setup();
    dir = await mkdtemp(join(tmpdir(), 'sk-prom-'));
    port = await freePort();
    await writeFile(join(dir, 'token'), token);
    await writeFile(join(dir, 'ca.crt'), ca);
    const job = (j: ScrapeJob) => `- job_name: ${j.name}
  scheme: https
  metrics_path: ${j.metricsPath ?? '/metrics'}
  authorization: {credentials_file: ${join(dir, 'token')}}
  tls_config: {ca_file: ${join(dir, 'ca.crt')}}
  static_configs: [{targets: ['${j.target}']}]
`;
    await writeFile(join(dir, 'prometheus.yml'), `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n${jobs.map(job).join('')}`);
    prometheus = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: 'ignore' },
    );
  });
  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    async query(promql) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => undefined);
      if (!r?.ok) return [];
      return ((await r.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
    },
    async metadata(family) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/metadata?metric=${encodeURIComponent(family)}`);
      return ((await r.json()) as { data: Record<string, { type: string; help: string; unit: string }[]> }).data[family] ?? [];
    },
  };
}
