/** Reading the Prometheus text exposition in tests: `name{a="x",b="y"}` → value, and deltas between scrapes. */
import assert from 'node:assert/strict';

export type Samples = Map<string, number>;

/** Parses the text format into a map keyed by the sample as written (labels in the order prom-client writes them). */
export function parseExposition(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

/** A sample's key from a name and labels (in the given order). */
export function key(name: string, labels: Record<string, string> = {}): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',');
  return l ? `${name}{${l}}` : name;
}

/** How much a sample grew between two scrapes (absent counts as 0). */
export function delta(before: Samples, after: Samples, name: string, labels: Record<string, string> = {}): number {
  const k = key(name, labels);
  return (after.get(k) ?? 0) - (before.get(k) ?? 0);
}

/** Every metric family name the exposition declares (`# TYPE name kind`). */
export function familyNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) names.add(m[1]!);
  return names;
}

export function assertDelta(before: Samples, after: Samples, name: string, labels: Record<string, string>, expected: number): void {
  assert.equal(delta(before, after, name, labels), expected, `${key(name, labels)} changed by ${delta(before, after, name, labels)}, expected ${expected}`);
}
