/** Bytes of a base64 string (atob exists in browsers and Node ≥ 16: no Buffer dependency in the web bundle). Browser-safe. */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
