/**
 * A self-contained SVG chart of one run: two panels of horizontal bars, req/s (median, with a
 * min–max whisker) and p99 latency (median), one labelled bar per variant.
 */
import type { VariantSummary } from './summary.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function colour(name: string): string {
  if (name.includes('gatehouse')) return '#2b7a4b';
  if (name.startsWith('bare-')) return '#8a8f98';
  return '#3b6ea8';
}

/** Axis end: the largest value, unless it dwarfs the rest (> 2.5× the next), then the next + 25 %. */
function axisMax(values: number[]): number {
  const sorted = [...values].sort((a, b) => b - a);
  const [first = 1e-9, second] = sorted;
  return second !== undefined && second > 0 && first > 2.5 * second ? second * 1.25 : Math.max(first, 1e-9);
}

interface Panel {
  title: string;
  value(v: VariantSummary): number;
  whisker?(v: VariantSummary): [number, number];
  format(x: number): string;
}

export function svgChart(title: string, variants: VariantSummary[]): string {
  const rows = variants.filter((v) => v.rounds > 0);
  const labelW = 250;
  const barW = 330;
  const valueW = 90;
  const panelW = labelW + barW + valueW;
  const rowH = 24;
  const top = 64;
  const height = top + rows.length * rowH + 40;
  const width = panelW * 2 + 30;
  const panels: Panel[] = [
    {
      title: 'requests per second (median, min–max)',
      value: (v) => v.rps.median,
      whisker: (v) => [v.rps.min, v.rps.max],
      format: (x) => Math.round(x).toLocaleString('en-US'),
    },
    {
      title: 'p99 latency, ms (median; lower is better)',
      value: (v) => v.p99_ms.median,
      format: (x) => (Number.isInteger(x) ? String(x) : x.toFixed(2)),
    },
  ];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600">${esc(title)}</text>`,
  ];
  panels.forEach((p, i) => {
    const x0 = 10 + i * (panelW + 10);
    const scaleMax = axisMax(rows.map((v) => Math.max(p.value(v), p.whisker?.(v)[1] ?? 0)));
    // Values beyond the axis (bare-http is ~8× everything else) are drawn clipped, with a break mark.
    const sx = (x: number): number => x0 + labelW + (Math.min(x, scaleMax * 1.08) / scaleMax) * barW;
    out.push(`<text x="${x0 + labelW}" y="${top - 14}" font-weight="600">${esc(p.title)}</text>`);
    out.push(`<line x1="${x0 + labelW}" y1="${top - 6}" x2="${x0 + labelW}" y2="${top + rows.length * rowH}" stroke="#444"/>`);
    rows.forEach((v, j) => {
      const y = top + j * rowH;
      const val = p.value(v);
      out.push(`<text x="${x0 + labelW - 6}" y="${y + 15}" text-anchor="end">${esc(v.name)}</text>`);
      out.push(`<rect x="${x0 + labelW}" y="${y + 4}" width="${Math.max(1, sx(val) - x0 - labelW).toFixed(1)}" height="${rowH - 8}" fill="${colour(v.name)}"><title>${esc(v.name)}: ${p.format(val)}</title></rect>`);
      if (val > scaleMax * 1.08) {
        const bx = x0 + labelW + barW * 0.9;
        out.push(`<path d="M${bx} ${y + 2} l6 ${rowH - 4} M${bx + 6} ${y + 2} l6 ${rowH - 4}" stroke="#ffffff" stroke-width="3"/>`);
      }
      let end = sx(val);
      if (p.whisker !== undefined) {
        const [lo, hi] = p.whisker(v);
        const cy = y + rowH / 2;
        out.push(`<line x1="${sx(lo).toFixed(1)}" y1="${cy}" x2="${sx(hi).toFixed(1)}" y2="${cy}" stroke="#222"/>`);
        out.push(`<line x1="${sx(lo).toFixed(1)}" y1="${cy - 4}" x2="${sx(lo).toFixed(1)}" y2="${cy + 4}" stroke="#222"/>`);
        out.push(`<line x1="${sx(hi).toFixed(1)}" y1="${cy - 4}" x2="${sx(hi).toFixed(1)}" y2="${cy + 4}" stroke="#222"/>`);
        end = Math.max(end, sx(hi));
      }
      out.push(`<text x="${(end + 5).toFixed(1)}" y="${y + 15}">${p.format(val)}</text>`);
    });
  });
  const ly = top + rows.length * rowH + 24;
  const legend: [string, string][] = [['#8a8f98', 'baseline (no auth)'], ['#3b6ea8', 'incumbent library'], ['#2b7a4b', 'Gatehouse']];
  legend.forEach(([c, label], i) => {
    const lx = 12 + i * 170;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${c}"/><text x="${lx + 18}" y="${ly}">${esc(label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
