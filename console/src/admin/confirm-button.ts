/**
 * Buttons that change something (promote, roll back, cancel, revoke): they ask first, are disabled
 * while their request runs, and say what happened right beside themselves, not at the top of the
 * page. The outcome is kept by key, so it survives the table being redrawn with fresh data (the
 * promoted version's cell says "serving" and still shows "Promoted.").
 */
import { h } from '../dom';

export interface Outcome {
  readonly ok: boolean;
  readonly text: string;
}

export class Outcomes {
  private readonly byKey = new Map<string, Outcome>();
  private readonly views = new Map<string, HTMLElement>();

  set(key: string, outcome: Outcome | null): void {
    if (outcome) this.byKey.set(key, outcome);
    else this.byKey.delete(key);
    const view = this.views.get(key);
    if (view?.isConnected) fill(view, outcome);
  }

  /** The outcome's place on the page (the latest one rendered for `key` gets later updates). */
  view(key: string): HTMLElement {
    const el = h('span', { class: 'outcome', 'data-outcome': key });
    fill(el, this.byKey.get(key) ?? null);
    this.views.set(key, el);
    return el;
  }
}

function fill(el: HTMLElement, o: Outcome | null): void {
  el.classList.toggle('ok', !!o?.ok);
  el.classList.toggle('error', !!o && !o.ok);
  // An error is announced at once; a success politely.
  el.setAttribute('role', o && !o.ok ? 'alert' : 'status');
  el.textContent = o?.text ?? '';
}

export interface ConfirmButton {
  readonly label: string;
  /** Where its outcome is kept (Outcomes). */
  readonly key: string;
  readonly outcomes: Outcomes;
  /** The question of the confirmation dialog. */
  readonly question: string;
  /** Does it; answers the outcome to show. */
  readonly run: () => Promise<string>;
  /** After a success (e.g. reload the table). */
  readonly then?: () => unknown;
  readonly className?: string;
}

/** A button with its confirmation and, beside it, its outcome. */
export function confirmButton(o: ConfirmButton): HTMLElement {
  const button = h('button', { type: 'button', class: o.className });
  button.textContent = o.label;
  const view = o.outcomes.view(o.key);
  button.addEventListener('click', () => {
    if (!window.confirm(o.question)) {
      o.outcomes.set(o.key, { ok: true, text: 'Not done: cancelled at the confirmation.' });
      return;
    }
    button.disabled = true;
    o.outcomes.set(o.key, { ok: true, text: 'Working…' });
    o.run().then(
      (text) => {
        o.outcomes.set(o.key, { ok: true, text });
        button.disabled = false;
        void o.then?.();
      },
      (err: unknown) => {
        o.outcomes.set(o.key, { ok: false, text: err instanceof Error ? err.message : String(err) });
        button.disabled = false;
      },
    );
  });
  return h('span', { class: 'action' }, button, view);
}
