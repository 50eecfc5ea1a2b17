import { describe, expect, it } from 'vitest';
import { parseCriLog, parseCriLogLine, renderLog } from './cri-log.ts';

const log = [
  '2026-01-01T00:00:01.000000000Z stdout F one',
  '2026-01-01T00:00:02.000000000Z stderr P par',
  '2026-01-01T00:00:02.500000000Z stderr F tial',
  '2026-01-01T00:00:03.000000000Z stdout F three',
  '',
].join('\n');

describe('CRI log', () => {
  it('parses stream, tag and content, keeping spaces in the content', () => {
    expect(parseCriLogLine('2026-01-01T00:00:01Z stdout F a b  c')).toEqual({
      timestamp: '2026-01-01T00:00:01Z',
      stream: 'stdout',
      full: true,
      content: 'a b  c',
    });
    expect(parseCriLogLine('garbage')).toBeNull();
  });

  it('joins partial lines and honours tailLines, timestamps and since', () => {
    const entries = parseCriLog(log);
    expect(renderLog(entries, {})).toBe('one\npartial\nthree\n');
    expect(renderLog(entries, { tailLines: 2 })).toBe('partial\nthree\n');
    expect(renderLog(entries, { tailLines: 0 })).toBe('');
    expect(renderLog(entries, { timestamps: true, tailLines: 1 })).toBe('2026-01-01T00:00:03.000000000Z three\n');
    expect(renderLog(entries, { sinceMs: Date.parse('2026-01-01T00:00:02.400Z') })).toBe('tial\nthree\n');
    expect(renderLog(entries, { limitBytes: 5 })).toBe('one\np');
  });
});
