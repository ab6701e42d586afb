/** Minimal DOM helpers: element builder and the message boxes every page uses. */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | ((e: Event) => void) | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function message(kind: 'error' | 'info' | 'empty', text: string): HTMLElement {
  return h('div', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function field(label: string, input: HTMLElement): HTMLElement {
  return h('label', {}, label, input);
}

export function fmt(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (Number.isInteger(n)) return n.toLocaleString('en');
  return Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en') : n.toFixed(digits);
}

/** Renders an error into `target`, whatever was thrown. */
export function showError(target: HTMLElement, err: unknown): void {
  target.replaceChildren(message('error', err instanceof Error ? err.message : String(err)));
}
