/** User page: profile, behaviour prediction (next-action bars) and recommendations with reasons. */
import { gql, isAborted, requestSlot } from '../api';
import { bars } from '../chart';
import { formatPercent, formatValue, plural } from '../charts/format';
import { field, fmt, h, message, showError } from '../dom';
import { readParams, writeParams } from '../url-state';

const QUERY = `query UserPage($id: ID!, $near: GeoPointInput, $at: DateTime) {
  user(id: $id) {
    id name
    behaviorPrediction(at: $at) {
      modelVersion predictedAt
      nextAction { action probability }
      p1: purchaseProbability(horizonDays: 1)
      p7: purchaseProbability(horizonDays: 7)
      p30: purchaseProbability(horizonDays: 30)
    }
    recommendations(first: 10, near: $near, at: $at) { score reason product { id name price category { name } } }
  }
}`;

const PROFILE = `query UserProfile($id: ID!) { user(id: $id) { profile { segment topCategories { name share } mobilityRadiusKm priceSensitivity lifetime { events purchases revenue } } } }`;

interface UserData {
  user: {
    id: string;
    name: string | null;
    behaviorPrediction: { modelVersion: string; predictedAt: string; nextAction: { action: string; probability: number }[]; p1: number; p7: number; p30: number };
    recommendations: { score: number; reason: string; product: { id: string; name: string; price: number; category: { name: string } | null } }[];
  };
}

interface ProfileData {
  user: { profile: { segment: string; topCategories: { name: string; share: number }[]; mobilityRadiusKm: number | null; priceSensitivity: number | null; lifetime: { events: number; purchases: number; revenue: number } } };
}

export function userPage(root: HTMLElement, defaultUserId: string | null): () => void {
  const params = readParams();
  const slot = requestSlot();
  const profileSlot = requestSlot();
  let left = false;
  const id = h('input', { name: 'userId', value: params.get('user') ?? defaultUserId ?? '', placeholder: 'user id', size: 8 });
  const lat = h('input', { name: 'lat', inputmode: 'decimal', value: params.get('lat') ?? '', placeholder: 'optional', size: 10 });
  const lng = h('input', { name: 'lng', inputmode: 'decimal', value: params.get('lng') ?? '', placeholder: 'optional', size: 10 });
  const at = h('input', { name: 'at', type: 'datetime-local', value: params.get('at') ?? '' });
  const show = h('button', { type: 'submit' }, 'Show');
  // Only this short line is live; the bars and tables below are not announced as they change.
  const status = h('p', { id: 'user-status', class: 'sr-only', role: 'status' });
  const out = h('div', { id: 'user-result' });
  const form = h(
    'form',
    { class: 'controls panel', onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    field('User id', id), field('Latitude', lat), field('Longitude', lng), field('At (your local time)', at),
    show,
  );
  root.replaceChildren(h('h2', {}, 'User'), form, status, out);

  function idle(): void {
    show.disabled = false;
    form.removeAttribute('aria-busy');
  }

  async function load(): Promise<void> {
    const userId = id.value.trim();
    writeParams({ user: userId || null, lat: lat.value || null, lng: lng.value || null, at: at.value || null });
    if (!userId) {
      slot.cancel();
      profileSlot.cancel();
      idle();
      status.textContent = '';
      out.replaceChildren(message('info', 'Enter a user id.'));
      return;
    }
    const near = lat.value && lng.value ? { latitude: Number(lat.value), longitude: Number(lng.value) } : null;
    if (near && (!Number.isFinite(near.latitude) || !Number.isFinite(near.longitude))) {
      slot.cancel();
      profileSlot.cancel();
      idle();
      status.textContent = '';
      out.replaceChildren(message('error', 'Latitude and longitude must be numbers.'));
      return;
    }
    const signal = slot.next();
    profileSlot.cancel();
    show.disabled = true;
    form.setAttribute('aria-busy', 'true');
    status.textContent = 'Loading…';
    out.replaceChildren(h('div', { class: 'message info' }, 'Loading…'));
    try {
      const d = await gql<UserData>(QUERY, { id: userId, near, at: at.value ? new Date(at.value).toISOString() : null }, signal);
      if (left || signal.aborted) return;
      const u = d.user;
      const p = u.behaviorPrediction;
      const recs = u.recommendations.length
        ? h('div', { class: 'table-scroll', tabindex: 0, role: 'region', 'aria-label': 'Recommendations table' }, h('table', { id: 'recommendations' },
            h('tr', {}, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, 'Product'), h('th', { scope: 'col' }, 'Category'), h('th', { scope: 'col' }, 'Price'), h('th', { scope: 'col' }, 'Why'), h('th', { scope: 'col' }, 'Score')),
            ...u.recommendations.map((r, i) => h('tr', {}, h('td', {}, i + 1), h('td', {}, r.product.name), h('td', {}, r.product.category?.name ?? ''), h('td', {}, formatValue('money', r.product.price)), h('td', {}, r.reason), h('td', {}, fmt(r.score, 3))))))
        : h('div', { class: 'message empty' }, 'No recommendations for this user with these filters.');
      const profile = h('div', { class: 'panel', id: 'profile' }, h('div', { class: 'message info' }, 'Loading profile…'));
      out.replaceChildren(
        h('div', { class: 'row' },
          h('div', { class: 'panel', id: 'prediction' },
            h('h3', {}, `Next action — ${u.name ?? `user ${u.id}`}`),
            bars(p.nextAction.map((a) => ({ label: a.action.toLowerCase(), value: a.probability })), 'Probability of the next action'),
            h('p', { class: 'purchase-probability' }, 'Probability of a purchase within ',
              h('strong', {}, '1 day'), ` ${formatPercent(p.p1)} · `, h('strong', {}, '7 days'), ` ${formatPercent(p.p7)} · `, h('strong', {}, '30 days'), ` ${formatPercent(p.p30)}`),
            h('p', { class: 'chart-note' }, h('code', {}, `model ${p.modelVersion}`), ` · predicted ${p.predictedAt.slice(0, 16).replace('T', ' ')} UTC`),
          ),
          profile,
        ),
        h('div', { class: 'panel' }, h('h3', {}, 'Recommendations'), h('p', { class: 'chart-note' }, 'Prices in currency units (the API does not name a currency).'), recs),
      );
      status.textContent = `${u.name ?? `User ${u.id}`}: next action and ${plural(u.recommendations.length, 'recommendation')}.`;
      void loadProfile(profile, userId);
    } catch (err) {
      if (left || isAborted(err) || signal.aborted) return;
      status.textContent = '';
      showError(out, err);
    } finally {
      if (!signal.aborted) idle();
    }
  }

  async function loadProfile(target: HTMLElement, userId: string): Promise<void> {
    const signal = profileSlot.next();
    try {
      const d = await gql<ProfileData>(PROFILE, { id: userId }, signal);
      if (left || signal.aborted) return;
      const pr = d.user.profile;
      target.replaceChildren(
        h('h3', {}, 'Profile'),
        h('p', {}, `Segment: ${pr.segment.toLowerCase().replaceAll('_', ' ')}`),
        h('p', {}, `Lifetime: ${plural(pr.lifetime.events, 'event')}, ${plural(pr.lifetime.purchases, 'purchase')}, revenue ${formatValue('money', pr.lifetime.revenue)} currency units`),
        h('p', {}, `Mobility radius ${fmt(pr.mobilityRadiusKm, 1)} km · price sensitivity ${fmt(pr.priceSensitivity)}`),
        h('h4', {}, 'Top categories (share of activity)'),
        bars(pr.topCategories.slice(0, 5).map((c) => ({ label: c.name, value: c.share })), 'Top categories'),
      );
    } catch (err) {
      if (left || isAborted(err) || signal.aborted) return;
      showError(target, err);
    }
  }

  if (id.value) void load();
  return () => {
    left = true;
    slot.cancel();
    profileSlot.cancel();
  };
}
