/**
 * Horizontal bars for a few labelled shares in [0, 1] (probabilities, category shares): a grid of
 * label | bar | percentage that shrinks to a phone's width; the percentage never wraps or clips.
 */
import './charts.css';
import { formatPercent } from './format';

export function bars(rows: { label: string; value: number }[], label = 'Shares'): HTMLElement {
  const el = document.createElement('div');
  el.className = 'chart bars';
  el.setAttribute('role', 'img');
  el.setAttribute('aria-label', `${label}: ${rows.map((r) => `${r.label} ${formatPercent(r.value)}`).join(', ') || 'none'}.`);
  el.dataset.points = String(rows.length);
  for (const r of rows) {
    const name = document.createElement('span');
    name.className = 'bar-label';
    name.textContent = r.label;
    const track = document.createElement('span');
    track.className = 'bar-track';
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.display = 'block';
    bar.style.width = `${Math.max(0.5, Math.min(100, r.value * 100))}%`;
    track.append(bar);
    const value = document.createElement('span');
    value.className = 'bar-value';
    value.textContent = formatPercent(r.value);
    el.append(name, track, value);
  }
  return el;
}
