// ARCHITECTURE.md's import rules, checked over the real import graph of src/ (scripts/import-graph.mjs).
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript module without type declarations
import { cycles, importGraph, upwardImports } from '../scripts/import-graph.mjs';

interface Edge { from: string; to: string; typeOnly: boolean }
const graph = importGraph() as { files: string[]; edges: Edge[] };

describe('import rules of ARCHITECTURE.md', () => {
  it('sees the whole of src/', () => {
    expect(graph.files).toContain('cli/index.ts');
    expect(graph.edges).toContainEqual({ from: 'train/loop.ts', to: 'eval/metrics.ts', typeOnly: false });
    expect(graph.edges).toContainEqual({ from: 'model/metadata.ts', to: 'features/params.ts', typeOnly: true });
  });

  it('no module imports from a folder below it in the table', () => {
    expect(upwardImports(graph.edges)).toEqual([]);
  });

  it('no import cycles', () => {
    expect(cycles(graph.files, graph.edges)).toEqual([]);
  });

  it('the checks catch an upward import, a value import where only types are allowed, and a cycle', () => {
    const e = (from: string, to: string, typeOnly = false): Edge => ({ from, to, typeOnly });
    expect(upwardImports([e('audio/load.ts', 'features/params.ts')])).toHaveLength(1);
    expect(upwardImports([e('model/io.ts', 'features/params.ts')])).toHaveLength(1);
    expect(upwardImports([e('model/io.ts', 'features/params.ts', true)])).toEqual([]);
    expect(upwardImports([e('train/loop.ts', 'eval/report.ts')])).toHaveLength(1);
    expect(upwardImports([e('train/loop.ts', 'eval/metrics.ts'), e('cli/x.ts', 'web/main.ts')])).toEqual([]);
    expect(cycles(['a.ts', 'b.ts', 'c.ts'], [e('a.ts', 'b.ts'), e('b.ts', 'c.ts'), e('c.ts', 'a.ts')])).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    expect(cycles(['a.ts', 'b.ts'], [e('a.ts', 'b.ts')])).toEqual([]);
  });
});
