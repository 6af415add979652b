/** SHA-256 through Web Crypto (Node ≥ 20 and browsers alike), the project's one content hash. */

/** SHA-256 hex digest of bytes, or of a string's UTF-8 bytes. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as unknown as ArrayBuffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
