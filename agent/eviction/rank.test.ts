import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodUsage } from '../stats/index.ts';
import { rankForEviction, type Candidate } from './rank.ts';

const Mi = 2 ** 20;
function candidate(name: string, o: { memoryRequest?: string; priority?: number; memory?: number; processes?: number; disk?: number } | 'no-stats'): Candidate {
  const opts = o === 'no-stats' ? {} : o;
  const pod = {
    metadata: { name },
    spec: { priority: opts.priority, containers: [{ name: 'c', resources: opts.memoryRequest ? { requests: { memory: opts.memoryRequest } } : {} }] },
  } as Pod;
  const usage: PodUsage | undefined =
    o === 'no-stats'
      ? undefined
      : {
          memoryWorkingSet: (opts.memory ?? 0) * Mi,
          processes: opts.processes ?? 1,
          containers: new Map(),
          ephemeral: { bytes: (opts.disk ?? 0) * Mi, inodes: 1 },
        };
  return { pod, usage };
}
const names = (c: Candidate[]) => c.map((x) => x.pod.metadata?.name);

describe('eviction ranking', () => {
  it('memory: pods above their requests first, then lower priority, then the most above requests', () => {
    const ranked = rankForEviction(
      [
        candidate('guaranteed-within', { memoryRequest: '100Mi', memory: 80 }),
        candidate('burstable-over', { memoryRequest: '10Mi', memory: 30 }),
        candidate('besteffort-big', { memory: 500 }),
        candidate('besteffort-small', { memory: 5 }),
        candidate('important-over', { memory: 900, priority: 1000 }),
      ],
      'memory',
    );
    expect(names(ranked)).toEqual(['besteffort-big', 'burstable-over', 'besteffort-small', 'important-over', 'guaranteed-within']);
  });

  it('puts pods without stats first', () => {
    expect(names(rankForEviction([candidate('a', { memory: 500 }), candidate('b', 'no-stats')], 'memory'))).toEqual(['b', 'a']);
  });

  it('pids: lower priority, then the most processes', () => {
    const ranked = rankForEviction(
      [candidate('few', { processes: 3 }), candidate('forker', { processes: 900 }), candidate('system', { processes: 5000, priority: 2000 })],
      'pids',
    );
    expect(names(ranked)).toEqual(['forker', 'few', 'system']);
  });

  it('disk: the biggest user of local storage first', () => {
    expect(names(rankForEviction([candidate('small', { disk: 1 }), candidate('filler', { disk: 60 })], 'ephemeral-storage'))).toEqual(['filler', 'small']);
  });
});
