/** A minimal 16-bit big-endian AIFF writer (COMM + SSND), to exercise the audio-decode path. */
export function aiff(ch: number[][], sr: number): Uint8Array {
  const nCh = ch.length;
  const n = ch[0]!.length;
  const ssnd = 8 + n * nCh * 2;
  const total = 12 + 8 + 18 + 8 + ssnd;
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  const put = (o: number, s: string): void => {
    for (let i = 0; i < 4; i++) b[o + i] = s.charCodeAt(i);
  };
  put(0, 'FORM');
  v.setUint32(4, total - 8);
  put(8, 'AIFF');
  put(12, 'COMM');
  v.setUint32(16, 18);
  v.setUint16(20, nCh);
  v.setUint32(22, n);
  v.setUint16(26, 16);
  const e = Math.floor(Math.log2(sr)); // 80-bit extended: exponent, then a 64-bit mantissa
  v.setUint16(28, 16383 + e);
  v.setBigUint64(30, BigInt(sr) << BigInt(63 - e));
  put(38, 'SSND');
  v.setUint32(42, ssnd);
  let o = 54;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < nCh; c++, o += 2) v.setInt16(o, ch[c]![i]!);
  }
  return b;
}
