/**
 * A deliberately simple FLAC *encoder* for tests only: it writes every subframe type, channel
 * mode, Rice parameter width, escape partitions, wasted bits and block-size/sample-rate codes on
 * demand, so the decoder is exercised without external tools or corpus files.
 */

class BitWriter {
  bytes: number[] = [];
  private cur = 0;
  private n = 0;
  /** Writes the low `bits` bits of `v` (two's complement for negatives), MSB first. */
  write(v: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      const bit = Math.floor(v / 2 ** i) & 1; // works for negatives in two's complement up to 2^53
      this.cur = (this.cur << 1) | bit;
      if (++this.n === 8) {
        this.bytes.push(this.cur);
        this.cur = 0;
        this.n = 0;
      }
    }
  }
  unary(q: number): void {
    for (let i = 0; i < q; i++) this.write(0, 1);
    this.write(1, 1);
  }
  align(): void {
    while (this.n !== 0) this.write(0, 1);
  }
}

function crc8(b: number[], from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) {
    c ^= b[i]!;
    for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c;
}
function crc16(b: number[], from: number, to: number): number {
  let c = 0;
  for (let i = from; i < to; i++) {
    c ^= b[i]! << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x8005) & 0xffff : (c << 1) & 0xffff;
  }
  return c;
}

export type ChannelMode = 'independent' | 'left-side' | 'side-right' | 'mid-side';
export type SubframeKind = 'constant' | 'verbatim' | 'fixed' | 'lpc';

export interface FlacEncodeOptions {
  sampleRate?: number;
  bps?: number;
  blockSize?: number;
  mode?: ChannelMode;
  subframe?: SubframeKind;
  /** FIXED order 0–4, or LPC order 1–32. */
  order?: number;
  riceParamBits?: 4 | 5;
  partitionOrder?: number;
  /** Write every partition as an escape (raw) partition. */
  escape?: boolean;
  /** Wasted bits to signal (the samples must be multiples of 2^wasted). */
  wasted?: number;
  /** Put the sample size / rate in the frame header (true) or take them from STREAMINFO. */
  explicitHeader?: boolean;
  /** Override STREAMINFO's total sample count (0 = unknown). */
  totalSamples?: number;
}

function rice(w: BitWriter, res: Int32Array | number[], from: number, to: number, k: number): void {
  for (let i = from; i < to; i++) {
    const r = res[i]!;
    const u = r >= 0 ? 2 * r : -2 * r - 1;
    w.unary(Math.floor(u / 2 ** k));
    if (k) w.write(u % 2 ** k, k);
  }
}

function writeResidual(w: BitWriter, res: number[], n: number, order: number, o: Required<FlacEncodeOptions>): void {
  const pb = o.riceParamBits;
  w.write(pb === 4 ? 0 : 1, 2);
  let po = o.partitionOrder;
  while (po > 0 && ((n >> po) << po !== n || n >> po < order)) po--;
  w.write(po, 4);
  const parts = 1 << po;
  const len = n >> po;
  for (let p = 0; p < parts; p++) {
    const from = p === 0 ? order : p * len;
    const to = (p + 1) * len;
    if (o.escape) {
      let width = 0;
      for (let i = from; i < to; i++) {
        while (res[i]! >= 2 ** (width - 1) || res[i]! < -(2 ** (width - 1))) width++;
      }
      w.write(pb === 4 ? 15 : 31, pb);
      w.write(width, 5);
      for (let i = from; i < to; i++) w.write(res[i]!, width);
      continue;
    }
    let sum = 0;
    for (let i = from; i < to; i++) sum += res[i]! >= 0 ? 2 * res[i]! : -2 * res[i]! - 1;
    const mean = to > from ? sum / (to - from) : 0;
    let k = mean > 1 ? Math.floor(Math.log2(mean)) : 0;
    k = Math.min(k, pb === 4 ? 14 : 30);
    w.write(k, pb);
    rice(w, res, from, to, k);
  }
}

function writeSubframe(w: BitWriter, x: number[], sbps: number, o: Required<FlacEncodeOptions>): void {
  const n = x.length;
  const wasted = o.wasted;
  const y = wasted ? x.map((v) => v / 2 ** wasted) : x;
  const bps = sbps - wasted;
  const kind = o.subframe;
  let type: number;
  if (kind === 'constant') type = 0;
  else if (kind === 'verbatim') type = 1;
  else if (kind === 'fixed') type = 8 + o.order;
  else type = 31 + o.order;
  w.write(0, 1);
  w.write(type, 6);
  if (wasted) {
    w.write(1, 1);
    w.unary(wasted - 1);
  } else w.write(0, 1);
  if (kind === 'constant') {
    w.write(y[0]!, bps);
    return;
  }
  if (kind === 'verbatim') {
    for (const v of y) w.write(v, bps);
    return;
  }
  const order = o.order;
  for (let i = 0; i < order; i++) w.write(y[i]!, bps);
  const res: number[] = new Array(n).fill(0);
  if (kind === 'fixed') {
    for (let i = order; i < n; i++) {
      let pred = 0;
      if (order === 1) pred = y[i - 1]!;
      else if (order === 2) pred = 2 * y[i - 1]! - y[i - 2]!;
      else if (order === 3) pred = 3 * y[i - 1]! - 3 * y[i - 2]! + y[i - 3]!;
      else if (order === 4) pred = 4 * y[i - 1]! - 6 * y[i - 2]! + 4 * y[i - 3]! - y[i - 4]!;
      res[i] = y[i]! - pred;
    }
  } else {
    // A fixed, plausible predictor: smooth decaying coefficients summing to ~1, 12-bit precision.
    const precision = 12;
    const shift = 10;
    const coefs: number[] = [];
    for (let j = 0; j < order; j++) coefs.push(Math.round(((j === 0 ? 1.6 : -0.6 / order) * 2 ** shift) / (j === 0 ? 1 : 1)));
    w.write(precision - 1, 4);
    w.write(shift, 5);
    for (const c of coefs) w.write(c, precision);
    for (let i = order; i < n; i++) {
      let s = 0;
      for (let j = 0; j < order; j++) s += coefs[j]! * y[i - 1 - j]!;
      res[i] = y[i]! - Math.floor(s / 2 ** shift);
    }
  }
  writeResidual(w, res, n, order, o);
}

function utf8(w: BitWriter, v: number): void {
  if (v < 0x80) return w.write(v, 8);
  const bytes: number[] = [];
  let n = 1;
  while (v >= 2 ** (6 * n + (6 - n))) n++;
  for (let i = 0; i < n; i++) {
    bytes.unshift(0x80 | (v & 0x3f));
    v = Math.floor(v / 64);
  }
  const lead = (0xff << (7 - n)) & 0xff;
  w.write(lead | v, 8);
  for (const b of bytes) w.write(b, 8);
}

const BS_CODES: Record<number, number> = { 192: 1, 576: 2, 1152: 3, 2304: 4, 4608: 5, 256: 8, 512: 9, 1024: 10, 2048: 11, 4096: 12, 8192: 13, 16384: 14, 32768: 15 };
const SR_CODES: Record<number, number> = { 88200: 1, 176400: 2, 192000: 3, 8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10, 96000: 11 };
const SS_CODES: Record<number, number> = { 8: 1, 12: 2, 16: 4, 20: 5, 24: 6 };

/** Encodes integer channels (values within `bps` bits) as a FLAC file. */
export function encodeFlac(channels: number[][], opts: FlacEncodeOptions = {}): Uint8Array {
  const o: Required<FlacEncodeOptions> = {
    sampleRate: 44100,
    bps: 16,
    blockSize: 1152,
    mode: 'independent',
    subframe: 'fixed',
    order: 2,
    riceParamBits: 4,
    partitionOrder: 2,
    escape: false,
    wasted: 0,
    explicitHeader: true,
    totalSamples: -1,
    ...opts,
  };
  const nCh = channels.length;
  const total = channels[0]!.length;
  const w = new BitWriter();
  // "fLaC" + STREAMINFO (last metadata block)
  for (const c of 'fLaC') w.write(c.charCodeAt(0), 8);
  w.write(1, 1);
  w.write(0, 7);
  w.write(34, 24);
  w.write(o.blockSize, 16);
  w.write(o.blockSize, 16);
  w.write(0, 24);
  w.write(0, 24);
  w.write(o.sampleRate, 20);
  w.write(nCh - 1, 3);
  w.write(o.bps - 1, 5);
  w.write(o.totalSamples >= 0 ? o.totalSamples : total, 36);
  for (let i = 0; i < 16; i++) w.write(0, 8);

  let frame = 0;
  for (let start = 0; start < total; start += o.blockSize, frame++) {
    const n = Math.min(o.blockSize, total - start);
    const fStart = w.bytes.length;
    w.write(0xfff8, 16);
    let bsCode = BS_CODES[n] ?? 0;
    if (!bsCode) bsCode = n <= 256 ? 6 : 7;
    const srCode = o.explicitHeader ? (SR_CODES[o.sampleRate] ?? (o.sampleRate % 1000 === 0 ? 12 : o.sampleRate < 65536 ? 13 : 0)) : 0;
    w.write(bsCode, 4);
    w.write(srCode, 4);
    const chCode = o.mode === 'independent' ? nCh - 1 : o.mode === 'left-side' ? 8 : o.mode === 'side-right' ? 9 : 10;
    w.write(chCode, 4);
    w.write(o.explicitHeader ? (SS_CODES[o.bps] ?? 0) : 0, 3);
    w.write(0, 1);
    utf8(w, frame);
    if (bsCode === 6) w.write(n - 1, 8);
    if (bsCode === 7) w.write(n - 1, 16);
    if (srCode === 12) w.write(o.sampleRate / 1000, 8);
    if (srCode === 13) w.write(o.sampleRate, 16);
    w.write(crc8(w.bytes, fStart, w.bytes.length), 8);
    const block = channels.map((c) => c.slice(start, start + n));
    let subs: Array<[number[], number]>;
    if (o.mode === 'independent') subs = block.map((c) => [c, o.bps]);
    else {
      const [l, r] = block as [number[], number[]];
      const side = l.map((v, i) => v - r[i]!);
      if (o.mode === 'left-side') subs = [[l, o.bps], [side, o.bps + 1]];
      else if (o.mode === 'side-right') subs = [[side, o.bps + 1], [r, o.bps]];
      else subs = [[l.map((v, i) => Math.floor((v + r[i]!) / 2)), o.bps], [side, o.bps + 1]];
    }
    for (const [x, sbps] of subs) writeSubframe(w, x, sbps, o);
    w.align();
    const crc = crc16(w.bytes, fStart, w.bytes.length);
    w.write(crc, 16);
  }
  return Uint8Array.from(w.bytes);
}
