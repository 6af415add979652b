import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, writeFile, rm, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import { buildModel, makeBatch } from '../../src/model/architectures.js';
import { saveModelFolder, loadModelFolder } from '../../src/model/io.js';
import { loadModelFromUrl } from '../../src/model/files.js';
import { featureParams } from '../../src/features/params.js';
import type { MetadataInput } from '../../src/model/metadata.js';

const LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad'];
const meta: MetadataInput = {
  labels: LABELS, featureParams: featureParams({ nMels: 16 }), arch: 'cnn3', archOptions: { rows: 16 },
  recipe: 'test', data: { files: 3 }, metrics: { accuracy: 0.5 },
};

let root: string;
beforeAll(async () => {
  await initBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'ser-model-io-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function input(): { x: tf.Tensor4D; mask: tf.Tensor2D } {
  const data = Float32Array.from({ length: 16 * 24 }, (_, i) => Math.sin(i * 0.37));
  return makeBatch([{ data, nMels: 16, frames: 24 }], 'cnn3', { rows: 16 });
}

async function savedFolder(name: string): Promise<string> {
  const dir = join(root, name);
  const model = buildModel('cnn3', { rows: 16 }, 5);
  await saveModelFolder(dir, model, meta);
  model.dispose();
  return dir;
}

async function expectCode(p: Promise<unknown>, code: string, msg?: RegExp): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e as { code?: string; message: string });
  expect(err, 'expected a SerError').not.toBeNull();
  expect(err!.code).toBe(code);
  if (msg) expect(err!.message).toMatch(msg);
}

describe('model folders', () => {
  it('save then load gives the same model, metadata completed with version and checksum', async () => {
    const dir = join(root, 'ok');
    const model = buildModel('cnn3', { rows: 16 }, 5);
    const written = await saveModelFolder(dir, model, meta);
    expect((await readdir(dir)).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    expect(written.formatVersion).toBe(1);
    expect(written.weights?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const { x, mask } = input();
    const before = (model.predict([x, mask]) as tf.Tensor).dataSync();
    const loaded = await loadModelFolder(dir);
    const after = (loaded.model.predict([x, mask]) as tf.Tensor).dataSync();
    expect(Array.from(after)).toEqual(Array.from(before));
    expect(loaded.metadata.labels).toEqual(LABELS);
    expect(loaded.metadata.recipe).toBe('test');
    loaded.model.dispose();
    model.dispose();
  });

  it('saving into an existing folder keeps other files and leaves no temporary folder', async () => {
    const dir = await savedFolder('existing');
    await writeFile(join(dir, 'log.json'), '{}');
    const model = buildModel('cnn3', { rows: 16 }, 6);
    await saveModelFolder(dir, model, meta);
    model.dispose();
    expect((await readdir(dir)).sort()).toEqual(['log.json', 'metadata.json', 'model.json', 'weights.bin']);
    expect((await readdir(root)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    (await loadModelFolder(dir)).model.dispose();
  });

  it('refuses a missing folder or file', async () => {
    await expectCode(loadModelFolder(join(root, 'nope')), 'model/missing-file', /not found/);
    const dir = await savedFolder('no-weights');
    await unlink(join(dir, 'weights.bin'));
    await expectCode(loadModelFolder(dir), 'model/missing-file', /weights\.bin/);
    const dir2 = await savedFolder('no-meta');
    await unlink(join(dir2, 'metadata.json'));
    await expectCode(loadModelFolder(dir2), 'model/missing-file', /metadata\.json/);
  });

  it('refuses damaged weights (truncated, or one byte changed) and broken JSON', async () => {
    const dir = await savedFolder('truncated');
    const w = await readFile(join(dir, 'weights.bin'));
    await writeFile(join(dir, 'weights.bin'), w.subarray(0, w.length - 4));
    await expectCode(loadModelFolder(dir), 'model/damaged', /bytes/);
    const dir2 = await savedFolder('flipped');
    const w2 = await readFile(join(dir2, 'weights.bin'));
    w2[10] ^= 0xff;
    await writeFile(join(dir2, 'weights.bin'), w2);
    await expectCode(loadModelFolder(dir2), 'model/damaged', /checksum/);
    const dir3 = await savedFolder('badjson');
    await writeFile(join(dir3, 'model.json'), '{"modelTopology": ');
    await expectCode(loadModelFolder(dir3), 'model/damaged', /model\.json: not valid JSON/);
  });

  it('refuses incompatible metadata', async () => {
    const edits: Array<[string, (m: Record<string, unknown>) => void, RegExp]> = [
      ['version', (m) => (m.formatVersion = 99), /formatVersion 99/],
      ['noversion', (m) => delete m.formatVersion, /no formatVersion/],
      ['arch', (m) => (m.arch = 'transformer'), /'transformer' is unknown/],
      ['labels', (m) => (m.labels = ['a', 'b', 'c']), /3 labels/],
    ];
    for (const [name, edit, msg] of edits) {
      const dir = await savedFolder(`meta-${name}`);
      const m = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
      edit(m);
      await writeFile(join(dir, 'metadata.json'), JSON.stringify(m));
      await expectCode(loadModelFolder(dir), 'model/incompatible', msg);
    }
    const dir = await savedFolder('meta-features');
    const m = JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8'));
    delete m.featureParams;
    await writeFile(join(dir, 'metadata.json'), JSON.stringify(m));
    await expectCode(loadModelFolder(dir), 'model/damaged', /featureParams/);
  });

  it('loads from a base URL through fetch', async () => {
    const dir = await savedFolder('url');
    const fakeFetch = (async (url: string) => {
      const name = url.replace('http://host/models/m/', '');
      try {
        const body = await readFile(join(dir, name));
        return new Response(body);
      } catch {
        return new Response('not found', { status: 404 });
      }
    }) as unknown as typeof fetch;
    const loaded = await loadModelFromUrl('http://host/models/m', fakeFetch);
    expect(loaded.metadata.arch).toBe('cnn3');
    loaded.model.dispose();
    await unlink(join(dir, 'weights.bin'));
    await expectCode(loadModelFromUrl('http://host/models/m/', fakeFetch), 'model/missing-file', /HTTP 404/);
  });
});
