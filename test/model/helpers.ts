/** Shared helpers of the kernel tests: seeded inputs, running a computation on a backend, relative error. */
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/model/backend.js';
import type { Spectrogram } from '../../src/features/types.js';

/** Deterministic xorshift floats in [-1, 1). */
export function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

/** Run `f` on a backend with fresh tensors built from the given arrays; returns the output values. */
export async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Float32Array> {
  await initBackend(backend);
  const out = tf.tidy(f);
  const v = (await out.data()) as Float32Array;
  out.dispose();
  return v;
}

/** max |a − b| / max |b| (lengths must match). */
export function maxRelErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let scale = 0, err = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i] as number));
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs((a[i] as number) - (b[i] as number)));
  return err / Math.max(scale, 1e-12);
}

/** A seeded random [rows, frames] spectrogram with values in [-1, 1) (an LCG, as the trainer tests have always used). */
export function spec(rows: number, frames: number, seed: number): Spectrogram {
  const data = new Float32Array(rows * frames);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (s / 4294967296) * 2 - 1;
  }
  return { data, nMels: rows, frames };
}

/** A stride-1 convolution test case: batch, height, width, input and output channels, padding, filter size (3). */
export type ConvPad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
export interface ConvCase { b: number; h: number; w: number; ci: number; co: number; pad: ConvPad; k?: number }

type Shape4 = [number, number, number, number];

/** The case's x, filter and dy shapes. */
export function convShapes(c: ConvCase): { x: Shape4; f: Shape4; dy: Shape4 } {
  const k = c.k ?? 3;
  const x: Shape4 = [c.b, c.h, c.w, c.ci];
  const f: Shape4 = [k, k, c.ci, c.co];
  const info = tf.backend_util.computeConv2DInfo(x, f, 1, 1, c.pad as never, undefined, false, 'channelsLast');
  return { x, f, dy: [c.b, info.outHeight, info.outWidth, c.co] };
}

/** A test name for the case. */
export const convLabel = (c: ConvCase): string => `b${c.b} ${c.h}x${c.w} ${c.ci}->${c.co} k${c.k ?? 3} ${typeof c.pad === 'string' ? c.pad : 'explicit'}`;
