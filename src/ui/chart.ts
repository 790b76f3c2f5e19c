import { count } from './format.js';
import { type Html, html } from './html.js';

export interface ChartSeries {
  label: string;
  /** A class of the stylesheet (`.chart .bar.bad`); the legend repeats it in words. */
  tone: 'ok' | 'bad' | 'plain';
  values: readonly number[];
}

const WIDTH = 480;
const HEIGHT = 90;
const AXIS = 14;

/**
 * A small bar chart as inline SVG built from numbers (no script, no library, nothing fetched): one
 * group of bars per time bucket, one bar per series, the oldest bucket on the left. Its text
 * alternative says the totals and the peak, and a table under `<details>` gives every number.
 */
export function barChart(
  title: string,
  buckets: readonly string[],
  series: readonly ChartSeries[],
  caption: string,
): Html {
  const peak = Math.max(1, ...series.flatMap((s) => s.values));
  const slot = WIDTH / Math.max(1, buckets.length);
  const bar = Math.max(1, (slot - 2) / series.length);
  const totals = series.map((s) => `${count(s.values.reduce((a, b) => a + b, 0))} ${s.label}`).join(', ');
  const summary = `${title}: ${totals}; at most ${count(peak)} in one hour`;
  const bars = series.flatMap((s, k) =>
    s.values.map((v, i) => {
      const h = v === 0 ? 0 : Math.max(1, (v / peak) * (HEIGHT - AXIS));
      const x = i * slot + 1 + k * bar;
      return html`<rect class="bar ${s.tone}" x="${x.toFixed(1)}" y="${(HEIGHT - AXIS - h).toFixed(1)}" width="${bar.toFixed(1)}" height="${h.toFixed(1)}"><title>${buckets[i]!}: ${count(v)} ${s.label}</title></rect>`;
    }),
  );
  const ticks = buckets.map((b, i) =>
    i % 6 === 0 ? html`<text x="${(i * slot + 1).toFixed(1)}" y="${HEIGHT - 2}">${b}</text>` : '',
  );
  return html`<figure class="chart">
<figcaption>${title} <span class="muted">${caption}</span></figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${summary}"><line class="axis" x1="0" x2="${WIDTH}" y1="${HEIGHT - AXIS + 0.5}" y2="${HEIGHT - AXIS + 0.5}"></line>${bars}${ticks}</svg>
<p class="legend">${series.map((s) => html`<span class="key ${s.tone}">${s.label}</span> `)}<span class="muted">peak ${count(peak)}</span></p>
<details><summary>The numbers</summary><table><thead><tr><th scope="col">Hour (UTC)</th>${series.map((s) => html`<th scope="col" class="num">${s.label}</th>`)}</tr></thead><tbody>
${buckets.map((b, i) => html`<tr><td>${b}</td>${series.map((s) => html`<td class="num">${count(s.values[i] ?? 0)}</td>`)}</tr>`)}
</tbody></table></details>
</figure>`;
}

/** The hour labels (`14:00`) of `n` buckets of `bucketMs` from `from`. */
export function hourLabels(from: number, n: number, bucketMs: number): string[] {
  return Array.from({ length: n }, (_, i) => new Date(from + i * bucketMs).toISOString().slice(11, 16));
}
