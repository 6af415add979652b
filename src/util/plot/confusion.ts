import { escapeXml, r2 } from './svg.js';

export interface ConfusionMatrixOptions {
  title?: string;
  /** Cell size in pixels. */
  cell?: number;
  /** Colour by row-normalised share (recall) instead of raw count. */
  normalize?: boolean;
}

/**
 * A confusion-matrix heatmap: rows are true labels, columns predicted; each cell shows its
 * count (and the row percentage). `matrix[i][j]` = items of class i predicted as j.
 */
export function confusionMatrix(labels: string[], matrix: number[][], opts: ConfusionMatrixOptions = {}): string {
  const n = labels.length;
  const cell = opts.cell ?? 64;
  const normalize = opts.normalize ?? true;
  const left = 90;
  const top = (opts.title ? 34 : 10) + 40;
  const width = left + n * cell + 20;
  const height = top + n * cell + 30;
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`;
  s += `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`;
  if (opts.title) s += `<text x="${r2(width / 2)}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(opts.title)}</text>`;
  s += `<text x="${r2(left + (n * cell) / 2)}" y="${r2(top - 26)}" text-anchor="middle" fill="#333">predicted</text>`;
  s += `<text x="14" y="${r2(top + (n * cell) / 2)}" text-anchor="middle" fill="#333" transform="rotate(-90 14 ${r2(top + (n * cell) / 2)})">true</text>`;
  const maxAll = Math.max(1, ...matrix.flat());
  for (let i = 0; i < n; i++) {
    const row = matrix[i] ?? [];
    const rowSum = row.reduce((a, b) => a + b, 0);
    s += `<text x="${r2(left - 6)}" y="${r2(top + i * cell + cell / 2 + 4)}" text-anchor="end">${escapeXml(labels[i] as string)}</text>`;
    for (let j = 0; j < n; j++) {
      const c = row[j] ?? 0;
      const share = normalize ? (rowSum > 0 ? c / rowSum : 0) : c / maxAll;
      // white → deep blue
      const rr = Math.round(255 - share * (255 - 8));
      const gg = Math.round(255 - share * (255 - 69));
      const bb = Math.round(255 - share * (255 - 148));
      const x = left + j * cell;
      const y = top + i * cell;
      const fg = share > 0.5 ? '#fff' : '#111';
      s += `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${rr},${gg},${bb})" stroke="#fff"><title>${escapeXml(labels[i] as string)} → ${escapeXml(labels[j] as string)}: ${c}</title></rect>`;
      s += `<text x="${r2(x + cell / 2)}" y="${r2(y + cell / 2 + (rowSum > 0 ? 0 : 4))}" text-anchor="middle" font-size="14" font-weight="${i === j ? 'bold' : 'normal'}" fill="${fg}">${c}</text>`;
      if (rowSum > 0) s += `<text x="${r2(x + cell / 2)}" y="${r2(y + cell / 2 + 16)}" text-anchor="middle" font-size="10" fill="${fg}">${Math.round((100 * c) / rowSum)}%</text>`;
    }
  }
  for (let j = 0; j < n; j++) {
    s += `<text x="${r2(left + j * cell + cell / 2)}" y="${r2(top - 8)}" text-anchor="middle">${escapeXml(labels[j] as string)}</text>`;
  }
  return s + '</svg>';
}
