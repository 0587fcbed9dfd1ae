/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): where the process spent its CPU, by area
 * (Warren's components, each npm package, Node internals, GC) and by function, self time and inclusive.
 *
 * Usable on its own: `node --import tsx bench/support/summarize-cpu-profile.ts FILE [--top 25]`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printTable } from './figures.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** One row of the summary: a name and its time in ms. */
export interface ProfileEntry {
  name: string;
  ms: number;
}

/** What {@link summarizeCpuProfile} found. */
export interface ProfileSummary {
  /** Length of the profile, in ms. */
  totalMs: number;
  /** Sampled time not idle, in ms. */
  busyMs: number;
  /** Busy time by area (component, package, Node, GC), largest first. */
  areas: ProfileEntry[];
  /** Functions by self time, largest first. */
  selfTime: ProfileEntry[];
  /** Warren's own functions (under src/) by inclusive time, largest first. */
  warrenInclusive: ProfileEntry[];
}

const pseudoFunctions = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

function shortLocation(url: string): string {
  if (url === '') return '';
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) return url.slice(nodeModules + '/node_modules/'.length);
  const source = url.lastIndexOf('/src/');
  if (source >= 0) return url.slice(source + 1);
  const bench = url.lastIndexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (pseudoFunctions.has(functionName)) return functionName;
  if (url === '') return '(native: V8 builtins, C++ bindings)';
  const nodeModules = url.lastIndexOf('/node_modules/');
  if (nodeModules >= 0) {
    const parts = url.slice(nodeModules + '/node_modules/'.length).split('/');
    return `npm ${parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const source = url.lastIndexOf('/src/');
  if (source >= 0)
    return `warren ${url
      .slice(source + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  const location = shortLocation(frame.url);
  return location === '' ? name : `${name}  ${location}:${frame.lineNumber + 1}`;
}

function sorted(map: Map<string, number>, limit: number): ProfileEntry[] {
  return [...map.entries()]
    .sort((left, right) => right[1] - left[1])
    .slice(0, limit)
    .map(([name, micros]) => ({ name, ms: micros / 1_000 }));
}

/** Reads and summarises a `.cpuprofile` file. */
export async function summarizeCpuProfile(file: string, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busyMicros = 0;
  const { samples, timeDeltas } = profile;
  for (let index = 0; index < samples.length; index += 1) {
    // why: timeDeltas[i] is the time before sample i, so the time sample i stands for is the next delta.
    const micros = timeDeltas[index + 1] ?? timeDeltas[index] ?? 0;
    const node = byId.get(samples[index]!);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busyMicros += micros;
    const key = functionKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + micros);
    const area = areaOf(node.callFrame);
    areas.set(area, (areas.get(area) ?? 0) + micros);
    const seen = new Set<string>();
    for (let current: number | undefined = node.id; current !== undefined; current = parentOf.get(current)) {
      const frame = byId.get(current)!.callFrame;
      if (!frame.url.includes('/src/')) continue;
      const warrenKey = functionKey(frame);
      if (seen.has(warrenKey)) continue;
      seen.add(warrenKey);
      inclusive.set(warrenKey, (inclusive.get(warrenKey) ?? 0) + micros);
    }
  }
  return {
    totalMs: (profile.endTime - profile.startTime) / 1_000,
    busyMs: busyMicros / 1_000,
    areas: sorted(areas, top),
    selfTime: sorted(self, top),
    warrenInclusive: sorted(inclusive, top),
  };
}

/** Prints a summary as three tables. */
export function printProfileSummary(summary: ProfileSummary): void {
  const share = (ms: number): string => `${((ms / summary.busyMs) * 100).toFixed(1)}%`;
  console.log(
    `profile: ${summary.totalMs.toFixed(0)} ms long, ${summary.busyMs.toFixed(0)} ms busy (not idle)\n`,
  );
  printTable(
    ['busy time by area', 'ms', 'share'],
    summary.areas.map((entry) => [entry.name, Math.round(entry.ms), share(entry.ms)]),
  );
  console.log('');
  printTable(
    ['top functions by self time', 'ms', 'share'],
    summary.selfTime.map((entry) => [entry.name, Math.round(entry.ms), share(entry.ms)]),
  );
  console.log('');
  printTable(
    ['Warren functions by inclusive time', 'ms', 'share'],
    summary.warrenInclusive.map((entry) => [entry.name, Math.round(entry.ms), share(entry.ms)]),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const file = positionals[0];
  if (!file) throw new Error('usage: summarize-cpu-profile.ts FILE [--top 25]');
  printProfileSummary(await summarizeCpuProfile(file, Number(values.top)));
}
