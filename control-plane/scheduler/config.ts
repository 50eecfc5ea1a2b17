import { parse as parseYaml } from 'yaml';
import type { FilterPlugin, Profile, ScorePlugin } from './framework.ts';
import { mostAllocated } from './plugins/resources.ts';
import { defaultProfile } from './scheduler.ts';

interface PluginSet {
  enabled?: { name: string; weight?: number }[];
  disabled?: { name: string }[];
}

interface ProfileConfig {
  schedulerName?: string;
  plugins?: { filter?: PluginSet; score?: PluginSet; multiPoint?: PluginSet };
  pluginConfig?: { name: string; args?: { scoringStrategy?: { type?: string } } }[];
}

/**
 * Profiles from a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1):
 * one per schedulerName, each starting from the default plugins; a profile
 * may disable filter or score plugins (by name, or "*" for all), re-weight
 * score plugins, and set NodeResourcesFit's scoringStrategy to
 * LeastAllocated or MostAllocated.
 */
export function profilesFromConfig(text: string): Profile[] {
  const doc = parseYaml(text) as { apiVersion?: string; kind?: string; profiles?: ProfileConfig[] } | null;
  if (doc?.kind !== 'KubeSchedulerConfiguration' || !doc.apiVersion?.startsWith('kubescheduler.config.k8s.io/'))
    throw new Error('the scheduler config must be a kubescheduler.config.k8s.io KubeSchedulerConfiguration');
  const profiles = (doc.profiles?.length ? doc.profiles : [{}]).map(profileFrom);
  const names = profiles.map((p) => p.schedulerName);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) throw new Error(`scheduler profile ${repeated} is defined twice`);
  return profiles;
}

function profileFrom(cfg: ProfileConfig): Profile {
  const strategy = cfg.pluginConfig?.find((c) => c.name === 'NodeResourcesFit')?.args?.scoringStrategy?.type;
  if (strategy && strategy !== 'LeastAllocated' && strategy !== 'MostAllocated')
    throw new Error(`NodeResourcesFit scoringStrategy ${strategy} is not supported: use LeastAllocated or MostAllocated`);
  const profile = defaultProfile(cfg.schedulerName, strategy === 'MostAllocated' ? mostAllocated : undefined);
  const known = new Set([...profile.filters.map((f) => f.name), ...profile.scores.map((s) => s.plugin.name)]);
  const check = (name: string) => {
    if (name !== '*' && !known.has(name)) throw new Error(`unknown scheduler plugin ${name}`);
  };
  const disabled = (set: PluginSet | undefined) =>
    new Set(
      (set?.disabled ?? []).map((d) => {
        check(d.name);
        return d.name;
      }),
    );
  const off = (set: Set<string>, name: string) => set.has('*') || set.has(name);
  const filtersOff = disabled(cfg.plugins?.filter);
  const scoresOff = disabled(cfg.plugins?.score);
  const multiOff = disabled(cfg.plugins?.multiPoint);
  const weights = new Map(
    (cfg.plugins?.score?.enabled ?? []).map((e) => {
      check(e.name);
      return [e.name, e.weight ?? 1] as const;
    }),
  );
  return {
    schedulerName: profile.schedulerName,
    filters: profile.filters.filter((f: FilterPlugin) => !off(filtersOff, f.name) && !off(multiOff, f.name)),
    scores: profile.scores
      .filter(({ plugin }: { plugin: ScorePlugin }) => !off(scoresOff, plugin.name) && !off(multiOff, plugin.name))
      .map((s) => ({ ...s, weight: weights.get(s.plugin.name) ?? s.weight })),
  };
}
