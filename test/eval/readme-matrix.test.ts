/**
 * The README's robustness matrix is the bundled model's: the figures between its `robustness-matrix` markers equal
 * the unseen-speaker estimate stored in models/default/metadata.json and the report it came from
 * (reports/robust/report.json), rounded as the README prints them. Guards against a matrix left behind when the
 * model or its calibration changes.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RECIPES } from '../../src/train/recipes.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('README robustness matrix', () => {
  it('equals the bundled model\'s metadata and reports/robust/report.json', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = readme.slice(readme.indexOf('<!-- robustness-matrix -->'), readme.indexOf('<!-- /robustness-matrix -->'));
    // an extra condition (never used for any choice) carries a dagger after its name
    const cells = block.split('\n').filter((l) => /^\| [a-z0-9.-]+( †)? \| \d/.test(l)).map((l) => l.split('|').map((c) => c.trim()).slice(1, -1));
    const daggers = cells.map((r) => r[0]!.endsWith(' †'));
    const rows = cells.map((r) => [r[0]!.replace(/ †$/, ''), ...r.slice(1)]);
    const meta = JSON.parse(readFileSync(join(ROOT, 'models/default/metadata.json'), 'utf8'));
    const est: Record<string, { accuracy: number; accuracyStd: number; uar: number; ece: number; extra?: boolean }> = meta.metrics.unseenSpeakerEstimate.conditions;
    expect(daggers).toEqual(rows.map((r) => est[r[0]!]?.extra === true));
    const report = JSON.parse(readFileSync(join(ROOT, 'reports/robust/report.json'), 'utf8'));
    expect(rows.map((r) => r[0])).toEqual(Object.keys(est));
    expect(rows.map((r) => r[0])).toEqual(report.conditions.map((c: { condition: string }) => c.condition));
    rows.forEach(([name, acc, uar, ece, floor]) => {
      const m = est[name!]!;
      expect(acc).toBe(`${(100 * m.accuracy).toFixed(1)} % ± ${(100 * m.accuracyStd).toFixed(1)}`);
      expect(uar).toBe(`${(100 * m.uar).toFixed(1)} %`);
      expect(ece).toBe(m.ece.toFixed(3));
      const c = report.conditions.find((x: { condition: string }) => x.condition === name);
      expect(c.ece).toBe(m.ece);
      expect(floor).toBe(c.eceFloor.toFixed(3));
    });
    expect(meta.calibration.temperature).toBe(report.calibration.temperature);
  });
  it('the bundled model predicts with the test-time warps of its recipe', () => {
    const meta = JSON.parse(readFileSync(join(ROOT, 'models/default/metadata.json'), 'utf8'));
    expect(meta.recipe.name).toBe('ser-robust');
    expect(meta.testWarps).toEqual(RECIPES['ser-robust']!.testWarps);
    expect(meta.testWarps).toEqual(meta.recipe.testWarps);
  });
});
