/**
 * Line charts of the scale bench, in the style of bench/lib/svg.ts (self-contained SVG, system font,
 * the same greys): a grid of panels, each with N on a logarithmic x axis and one line per series.
 */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export interface Series {
  label: string;
  colour: string;
  dashed?: boolean;
  points: Array<[number, number]>;
}

export interface LinePanel {
  title: string;
  series: Series[];
  format(y: number): string;
  /** A horizontal goal line. */
  goal?: { y: number; label: string };
}

const fmtN = (n: number): string => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function lineCharts(title: string, panels: LinePanel[], columns = 2): string {
  const pw = 430;
  const ph = 290;
  const left = 64;
  const right = 16;
  const top = 34;
  const bottom = 100;
  const rows = Math.ceil(panels.length / columns);
  const width = columns * pw + 20;
  const height = 40 + rows * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="600">${esc(title)}</text>`,
  ];
  panels.forEach((p, idx) => {
    const ox = 10 + (idx % columns) * pw;
    const oy = 40 + Math.floor(idx / columns) * ph;
    const xs = [...new Set(p.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
    const ys = p.series.flatMap((s) => s.points.map(([, y]) => y)).concat(p.goal ? [p.goal.y] : []);
    const yMax = niceMax(Math.max(...ys, 0) * 1.05);
    const x0 = ox + left;
    const x1 = ox + pw - right;
    const y0 = oy + ph - bottom;
    const y1 = oy + top;
    const lo = Math.log10(xs[0] ?? 1);
    const hi = Math.log10(xs.at(-1) ?? 10);
    const sx = (x: number) => (hi === lo ? (x0 + x1) / 2 : x0 + ((Math.log10(x) - lo) / (hi - lo)) * (x1 - x0));
    const sy = (y: number) => y0 - (y / yMax) * (y0 - y1);
    out.push(`<text x="${x0}" y="${oy + 18}" font-weight="600" font-size="12">${esc(p.title)}</text>`);
    for (let k = 0; k <= 4; k++) {
      const y = (yMax * k) / 4;
      out.push(`<line x1="${x0}" y1="${sy(y).toFixed(1)}" x2="${x1}" y2="${sy(y).toFixed(1)}" stroke="#e3e5e8"/>`);
      out.push(`<text x="${x0 - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end" fill="#444">${esc(p.format(y))}</text>`);
    }
    for (const x of xs) out.push(`<text x="${sx(x).toFixed(1)}" y="${y0 + 15}" text-anchor="middle" fill="#444">${fmtN(x)}</text>`);
    out.push(`<text x="${(x0 + x1) / 2}" y="${y0 + 29}" text-anchor="middle" fill="#444">live sessions in the store</text>`);
    out.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="#444"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}" stroke="#444"/>`);
    if (p.goal) {
      out.push(`<line x1="${x0}" y1="${sy(p.goal.y).toFixed(1)}" x2="${x1}" y2="${sy(p.goal.y).toFixed(1)}" stroke="#c0392b" stroke-dasharray="2 3"/>`);
      out.push(`<text x="${x1}" y="${(sy(p.goal.y) - 4).toFixed(1)}" text-anchor="end" fill="#c0392b">${esc(p.goal.label)}</text>`);
    }
    for (const s of p.series) {
      const pts = s.points.filter(([, y]) => Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
      if (pts.length === 0) continue;
      const d = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
      for (const [x, y] of pts) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.colour}"><title>${esc(s.label)} at ${fmtN(x)}: ${esc(p.format(y))}</title></circle>`);
    }
    // Legend under the axis, wrapped in two columns.
    p.series.forEach((s, i) => {
      const lx = x0 + (i % 2) * 180;
      const ly = y0 + 44 + Math.floor(i / 2) * 14;
      out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/><text x="${lx + 24}" y="${ly}">${esc(s.label)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
