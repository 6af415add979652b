/**
 * `ser evaluate --conditions` end to end (child processes): the leave-one-speaker-out matrix with
 * nested selection on a toy corpus whose emotions are tones, then a model trained with that
 * report's calibration, then the matrix of that one model.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { writeToyCorpus } from '../train/helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ser = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/train/ser-entry.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });

describe('ser evaluate --conditions', () => {
  it('LOSO with nested selection, --robustness into a model\'s metadata, then one model\'s matrix', { timeout: 300_000 }, () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ser-robust-'));
    try {
      const data = join(tmp, 'corpus');
      mkdirSync(data);
      writeToyCorpus(data, (p, b) => writeFileSync(p, b), [1, 2, 3], 2);
      const cache = join(tmp, 'cache');
      const conds = 'original,16k,quiet-30db,pink-10db';
      const r = ser(['evaluate', '--data', data, '--conditions', conds, '--loso', '--recipe', 'ser-robust', '--epochs', '8',
        '--candidates', '[{"name": "no-channel", "offlineAugment": {"channel": null}}, {"name": "no-modulation", "features": {"statsModulation": false}, "ensemble": 1}]', '--extra-conditions', 'white-5db', '--json', '--no-progress', '--cache', cache, '--out', join(tmp, 'rob')]);
      expect(r.status, r.stderr).toBe(0);
      const rep = JSON.parse(r.stdout.trim());
      expect(rep.mode).toBe('loso');
      // the extra condition comes last, flagged
      expect(rep.conditions.map((c: { condition: string }) => c.condition)).toEqual([...conds.split(','), 'white-5db']);
      expect(rep.conditions.map((c: { extra?: boolean }) => c.extra === true)).toEqual([false, false, false, false, true]);
      for (const c of rep.conditions) {
        expect(c.n).toBe(30);
        expect(c.ece).toBeGreaterThanOrEqual(0);
        expect(c.perFold.map((f: { fold: string }) => f.fold)).toEqual(['1', '2', '3']);
        expect(c.accuracy).toBeCloseTo(c.perFold.reduce((a: number, f: { accuracy: number }) => a + f.accuracy, 0) / 3, 12);
      }
      // tones are easy: a new speaker's tones are still told apart, with and without the 16 kHz round trip
      expect(rep.conditions[0].accuracy).toBeGreaterThan(0.8);
      expect(rep.conditions[1].accuracy).toBeGreaterThan(0.8);
      // nested selection: every configuration scored on the training speakers of every fold, one of them on other features
      expect(rep.selection.candidates).toEqual(['ser-robust', 'no-channel', 'no-modulation']);
      expect(Object.keys(rep.selection.chosen)).toEqual(['1', '2', '3']);
      for (const s of ['1', '2', '3']) expect(Object.keys(rep.selection.innerScores[s]).sort()).toEqual(['no-channel', 'no-modulation', 'ser-robust']);
      expect(rep.calibration.temperature).toBeGreaterThan(0);
      expect(['temperature', 'entropy-temperature', 'noise-temperature']).toContain(rep.calibrationChoice.form);
      // utterance statistics give every prediction's noise floor: the noise-floor form is among the forms
      expect(Object.keys(rep.calibrationChoice.nll).sort()).toEqual(['entropy-temperature', 'noise-temperature', 'temperature']);
      // fitted and chosen by the Brier score (the default)
      expect(rep.calibrationChoice.objective).toBe('brier');
      const b = rep.calibrationChoice.brier;
      // the inner folds hold predictions under every condition, so each fold's procedure (form × fitting set) is the one with the lowest inner ECE over the conditions
      const proc = rep.calibrationProcedure;
      const names = ['temperature', 'entropy-temperature', 'noise-temperature', 'temperature on original', 'entropy-temperature on original', 'noise-temperature on original'];
      expect(Object.keys(proc.procedures)).toEqual(names);
      for (const s of ['1', '2', '3']) {
        const sc = proc.scores[s];
        expect(Object.keys(sc)).toEqual(names);
        expect(proc.chosen[s]).toBe(names.reduce((best, k) => (sc[k] < sc[best] ? k : best), names[0]));
        expect(rep.foldCalibrations[s].entropySlope !== undefined).toBe(proc.procedures[proc.chosen[s]].form !== 'temperature');
        expect(rep.foldCalibrations[s].noiseSlope !== undefined).toBe(proc.procedures[proc.chosen[s]].form === 'noise-temperature');
      }
      expect(rep.calibrationChoice.form).toBe(proc.procedures[proc.overall].form);
      expect(rep.calibration.entropySlope !== undefined).toBe(rep.calibrationChoice.form !== 'temperature');
      expect(Object.keys(rep.foldCalibrations)).toEqual(['1', '2', '3']);
      // each configuration trains its own ensemble; the report counts the overall choice's members
      expect(rep.selection.members).toEqual({ 'ser-robust': 3, 'no-channel': 3, 'no-modulation': 1 });
      expect(rep.seeds).toBe(rep.selection.members[rep.selection.overall]);
      // a fold is calibrated on the other folds' held-out predictions when two others trained its configuration, else on its inner folds
      for (const s of ['1', '2', '3']) {
        const same = ['1', '2', '3'].filter((o) => o !== s && rep.selection.chosen[o] === rep.selection.chosen[s]).length;
        expect(rep.calibrationSources.folds[s]).toBe(same >= 2 ? 'outer' : 'inner');
      }
      expect(rep.calibrationSources.report).toBe(Object.values(rep.selection.chosen).filter((c) => c === rep.selection.overall).length >= 2 ? 'outer' : 'inner');
      // every prediction made, to analyse without re-training
      const pred = JSON.parse(readFileSync(join(tmp, 'rob', 'predictions.json'), 'utf8'));
      expect(pred.outer.map((o: { fold: string }) => o.fold)).toEqual(['1', '2', '3']);
      for (const o of pred.outer) {
        expect(o.configuration).toBe(rep.selection.chosen[o.fold]);
        expect(o.files).toHaveLength(10);
        expect(o.labels).toHaveLength(10);
        for (const c of [...conds.split(','), 'white-5db']) expect(o.raw[c]).toHaveLength(10);
        expect(o.raw.original[0]).toHaveLength(rep.labels.length);
      }
      // the extra condition is predicted for the held-out speakers only: no inner fold (no choice) has it
      expect(pred.extraSets).toEqual(['white-5db']);
      for (const byOuter of Object.values(pred.inner) as Array<Record<string, Record<string, { raw: Record<string, unknown> }>>>) {
        for (const byInner of Object.values(byOuter)) for (const g of Object.values(byInner)) expect(g.raw['white-5db']).toBeUndefined();
      }
      expect(Object.keys(pred.inner).sort()).toEqual(['no-channel', 'no-modulation', 'ser-robust']);
      // inner folds: per outer fold, the two other speakers, each 10 files under every set (the conditions and the training-augmented copy)
      expect(pred.calibrationSets).toEqual(['original', 'train-aug']);
      expect(pred.sets).toEqual([...conds.split(','), 'train-aug']);
      for (const s of ['1', '2', '3']) {
        expect(Object.keys(pred.inner['ser-robust'][s]).sort()).toEqual(['1', '2', '3'].filter((o) => o !== s));
        for (const g of Object.values(pred.inner['ser-robust'][s]) as Array<{ files: string[]; labels: number[]; raw: Record<string, number[][]>; floors: Record<string, number[]> }>) {
          expect(g.files).toHaveLength(10);
          expect(g.labels).toHaveLength(10);
          for (const set of pred.sets) expect(g.raw[set]).toHaveLength(10);
          // and each input's noise floor (≤ 1: nothing quieter than the loud level)
          for (const set of pred.sets) {
            expect(g.floors[set]).toHaveLength(10);
            for (const f of g.floors[set]!) expect(f).toBeLessThanOrEqual(1);
          }
        }
      }
      // the overall choice is the one most folds chose (ties: the best mean inner score), and the report carries its whole configuration
      const votes = (c: string) => Object.values(rep.selection.chosen).filter((x) => x === c).length;
      expect(votes(rep.selection.overall)).toBe(Math.max(...rep.selection.candidates.map(votes)));
      expect(rep.configuration.name).toBe(rep.selection.overall);
      for (const f of ['report.json', 'REPORT.md', 'figures/reliability-original.svg']) expect(existsSync(join(tmp, 'rob', f))).toBe(true);
      const md = readFileSync(join(tmp, 'rob', 'REPORT.md'), 'utf8');
      expect(md).toMatch(/\| pink-10db \| \d/);
      expect(md).toMatch(/\| white-5db † \| \d/);
      expect(md).toContain('† an extra condition (`--extra-conditions`): predicted for the held-out speakers only, after every choice of the run');
      expect(md).toContain('Nested selection among 3 configurations');
      expect(md).toContain(`leave-one-speaker-out Brier score for reference: one temperature ${b.temperature.toFixed(4)}`);
      expect(md).toContain('Calibration procedure per fold');
      expect(md).toContain(rep.calibrationSources.report === 'outer' ? 'fitted on the held-out predictions of every fold that trained it' : 'fitted on all of its inner out-of-fold predictions');
      expect(md).toContain(`Overall choice (most folds; ties: best mean inner score): \`${rep.selection.overall}\`.`);
      expect(md).toMatch(new RegExp(`\\| ${rep.selection.overall} \\|.*\\| ${votes(rep.selection.overall)} \\|`));
      const spec = proc.procedures[proc.overall];
      const formWords = { temperature: 'one temperature', 'entropy-temperature': 'entropy-dependent', 'noise-temperature': 'entropy- and noise-floor-dependent' } as Record<string, string>;
      const words = `${formWords[spec.form]}${spec.sets.length === 1 ? ', on original audio only' : ''}`;
      expect(md).toContain(`fitted by Brier score; calibration procedure per fold by its inner folds' calibration error under the conditions (overall: ${words})`);

      // the stored predictions re-scored without training: the same choices and matrix (the run's float32 probabilities stored exactly)
      const cands = '[{"name": "no-channel", "offlineAugment": {"channel": null}}, {"name": "no-modulation", "features": {"statsModulation": false}, "ensemble": 1}]';
      const rs = ser(['evaluate', '--conditions', '--loso', '--recipe', 'ser-robust', '--epochs', '8', '--candidates', cands, '--from-predictions', join(tmp, 'rob', 'predictions.json'), '--json']);
      expect(rs.status, rs.stderr).toBe(0);
      const again = JSON.parse(rs.stdout.trim());
      expect(again.selection.chosen).toEqual(rep.selection.chosen);
      expect(again.selection.overall).toBe(rep.selection.overall);
      expect(again.calibrationProcedure.chosen).toEqual(proc.chosen);
      expect(again.calibrationSources).toEqual(rep.calibrationSources);
      expect(again.configuration).toEqual(rep.configuration);
      expect(again.rescoredFrom).toBe(join(tmp, 'rob', 'predictions.json'));
      expect(again.conditions).toEqual(rep.conditions);
      // without the extra condition's predictions every choice, calibration and figure of the other conditions is the same: it took part in none
      const stripped = structuredClone(pred);
      delete stripped.extraSets;
      for (const o of stripped.outer) { delete o.raw['white-5db']; delete o.floors['white-5db']; }
      writeFileSync(join(tmp, 'stripped.json'), JSON.stringify(stripped));
      const st = ser(['evaluate', '--conditions', '--loso', '--recipe', 'ser-robust', '--epochs', '8', '--candidates', cands, '--from-predictions', join(tmp, 'stripped.json'), '--json']);
      expect(st.status, st.stderr).toBe(0);
      const without = JSON.parse(st.stdout.trim());
      expect(without.selection).toEqual(again.selection);
      expect(without.calibrationProcedure).toEqual(again.calibrationProcedure);
      expect(without.foldCalibrations).toEqual(again.foldCalibrations);
      expect(without.calibration).toEqual(again.calibration);
      expect(without.conditions).toEqual(again.conditions.slice(0, 4));
      expect(ser(['evaluate', '--conditions', '--loso', '--recipe', 'ser-robust', '--candidates', cands, '--extra-conditions', '--from-predictions', join(tmp, 'rob', 'predictions.json')]).stderr).toContain('cannot be added to a stored run');
      expect(ser(['evaluate', '--data', data, '--extra-conditions']).stderr).toContain('--extra-conditions needs --conditions');
      expect(rep.rescoredFrom).toBeUndefined();
      expect(again.conditions).toEqual(rep.conditions);
      expect(again.calibration).toEqual(rep.calibration);
      expect(again.calibrationProcedure).toEqual(rep.calibrationProcedure);
      // every stored probability reads back as the float32 the run computed, in at most 9 significant digits
      for (const o of pred.outer) for (const row of o.raw.original as number[][]) for (const v of row) {
        expect(Math.fround(v)).toBe(v === 0 ? 0 : Math.fround(Number(v.toPrecision(9))));
        expect(String(v).replace(/^0\.0*|e.*$|\./g, '').length).toBeLessThanOrEqual(9);
      }
      // gzipped, the same
      writeFileSync(join(tmp, 'pred.json.gz'), gzipSync(readFileSync(join(tmp, 'rob', 'predictions.json'))));
      const gz = ser(['evaluate', '--conditions', '--loso', '--recipe', 'ser-robust', '--epochs', '8', '--candidates', cands, '--from-predictions', join(tmp, 'pred.json.gz'), '--json']);
      expect(gz.status, gz.stderr).toBe(0);
      expect(JSON.parse(gz.stdout.trim()).conditions).toEqual(again.conditions);
      // other configurations than the run's, a corpus, or no --loso are refused
      const other = ser(['evaluate', '--conditions', '--loso', '--recipe', 'ser-robust', '--from-predictions', join(tmp, 'rob', 'predictions.json')]);
      expect(other.status).not.toBe(0);
      expect(other.stderr).toContain('give the same --recipe and --candidates');
      expect(ser(['evaluate', '--conditions', '--loso', '--data', data, '--from-predictions', join(tmp, 'rob', 'predictions.json')]).stderr).toContain('drop --data');
      expect(ser(['evaluate', '--conditions', '--from-predictions', join(tmp, 'rob', 'predictions.json')]).stderr).toContain('needs --loso');
      expect(ser(['evaluate', '--conditions', '--loso', '--from-predictions', join(tmp, 'rob', 'REPORT.md')]).stderr).toContain('--from-predictions');

      // the training seed: 42 unless given, recorded in the report and the predictions (and carried by a re-score); another seed is another draw of weights and copies on the same test conditions
      expect([rep.seed, pred.seed, again.seed]).toEqual([42, 42, 42]);
      const s7 = ser(['evaluate', '--data', data, '--conditions', 'original', '--loso', '--recipe', 'ser-robust', '--epochs', '8', '--seed', '7', '--json', '--no-progress', '--cache', cache, '--out', join(tmp, 'rob7')]);
      expect(s7.status, s7.stderr).toBe(0);
      expect(JSON.parse(s7.stdout.trim()).seed).toBe(7);
      const pred7 = JSON.parse(readFileSync(join(tmp, 'rob7', 'predictions.json'), 'utf8'));
      expect(pred7.seed).toBe(7);
      expect(pred7.outer.map((o: { files: string[] }) => o.files)).toEqual(pred.outer.map((o: { files: string[] }) => o.files));
      expect(pred7.outer[0].raw.original).not.toEqual(pred.outer.find((o: { fold: string }) => o.fold === pred7.outer[0].fold).raw.original);
      expect(readFileSync(join(tmp, 'rob7', 'REPORT.md'), 'utf8')).toContain('3 model(s) per fold, training seed 7;');
      expect(ser(['evaluate', '--data', data, '--conditions', 'original', '--seed', '7']).stderr).toContain('--seed needs --loso');

      // a model trained with the report's configuration (as a recipe file: the name does not matter) stores its calibration and matrix
      const conf = join(tmp, 'chosen.json');
      writeFileSync(conf, JSON.stringify({ ...rep.configuration, name: 'my-name' }));
      const t = ser(['train', '--data', data, '--recipe', conf, '--out', join(tmp, 'model'), '--robustness', join(tmp, 'rob', 'report.json'), '--cache', cache, '--no-progress']);
      expect(t.status, t.stderr).toBe(0);
      const meta = JSON.parse(readFileSync(join(tmp, 'model', 'metadata.json'), 'utf8'));
      expect(meta.calibration).toMatchObject(rep.calibration);
      expect(meta.calibration.fittedOn).toContain(spec.sets.length === 1 ? 'original audio only' : 'original audio + one training-augmented copy each');
      expect(meta.featureParams.sampleRate).toBe(16000);
      // the configuration's ensemble (3 members, or 1 for 'no-modulation'): one model folder that averages them
      const members = rep.selection.members[rep.selection.overall];
      if (members === 3) {
        expect(meta.archOptions.members).toBe(3);
        expect(meta.ensemble.seeds).toEqual([42, 43, 44]);
      } else {
        expect(members).toBe(1);
        expect(meta.archOptions.members).toBeUndefined();
        expect(meta.ensemble).toBeUndefined();
      }
      expect(Object.keys(meta.metrics.unseenSpeakerEstimate.conditions)).toEqual([...conds.split(','), 'white-5db']);
      expect(meta.metrics.unseenSpeakerEstimate.conditions['white-5db']).toMatchObject({ extra: true, description: 'white noise at 5 dB SNR' });

      // that model's own matrix uses its calibration; its 'original' accuracy is `ser evaluate`'s
      const m = ser(['evaluate', '--data', data, '--model', join(tmp, 'model'), '--conditions', 'original,telephone', '--extra-conditions', 'white-5db', '--json', '--no-progress']);
      expect(m.status, m.stderr).toBe(0);
      const one = JSON.parse(m.stdout.trim());
      expect(one.mode).toBe('model');
      expect(one.conditions.map((c: { condition: string; extra?: boolean }) => `${c.condition}${c.extra ? '+' : ''}`)).toEqual(['original', 'telephone', 'white-5db+']);
      expect(one.calibration).toMatchObject(rep.calibration);
      const plain = JSON.parse(ser(['evaluate', '--data', data, '--model', join(tmp, 'model'), '--json', '--no-progress']).stdout.trim());
      expect(one.conditions[0].accuracy).toBeCloseTo(plain.accuracy, 12);

      // a report of another recipe is refused
      const bad = ser(['train', '--data', data, '--recipe', 'ser-stats', '--out', join(tmp, 'm2'), '--robustness', join(tmp, 'rob', 'report.json'), '--no-progress']);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(new RegExp(`calibration is of configuration '${rep.selection.overall}', which differs from recipe 'ser-stats'`));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
