/** User page: profile, behaviour prediction (next-action bars) and recommendations with reasons. */
import { gql } from '../api';
import { bars } from '../chart';
import { field, fmt, h, message, showError } from '../dom';

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

export function userPage(root: HTMLElement, defaultUserId: string | null): void {
  const id = h('input', { name: 'userId', value: defaultUserId ?? '', placeholder: 'user id', size: 8 });
  const lat = h('input', { name: 'lat', placeholder: 'latitude (optional)', size: 12 });
  const lng = h('input', { name: 'lng', placeholder: 'longitude (optional)', size: 12 });
  const at = h('input', { name: 'at', type: 'datetime-local' });
  const out = h('div', { id: 'user-result' });
  const form = h(
    'form',
    { class: 'controls panel', onsubmit: (e: Event) => { e.preventDefault(); void load(); } },
    field('User id', id), field('Latitude', lat), field('Longitude', lng), field('At (your local time)', at),
    h('button', { type: 'submit' }, 'Show'),
  );
  root.replaceChildren(h('h2', {}, 'User'), form, out);

  async function load(): Promise<void> {
    if (!id.value.trim()) {
      out.replaceChildren(message('info', 'Enter a user id.'));
      return;
    }
    const near = lat.value && lng.value ? { latitude: Number(lat.value), longitude: Number(lng.value) } : null;
    if (near && (!Number.isFinite(near.latitude) || !Number.isFinite(near.longitude))) {
      out.replaceChildren(message('error', 'Latitude and longitude must be numbers.'));
      return;
    }
    out.replaceChildren(message('info', 'Loading…'));
    try {
      const d = await gql<UserData>(QUERY, { id: id.value.trim(), near, at: at.value ? new Date(at.value).toISOString() : null });
      const u = d.user;
      const p = u.behaviorPrediction;
      const recs = u.recommendations.length
        ? h('table', { id: 'recommendations' },
            h('tr', {}, h('th', {}, '#'), h('th', {}, 'Product'), h('th', {}, 'Category'), h('th', {}, 'Price'), h('th', {}, 'Why'), h('th', {}, 'Score')),
            ...u.recommendations.map((r, i) => h('tr', {}, h('td', {}, i + 1), h('td', {}, r.product.name), h('td', {}, r.product.category?.name ?? ''), h('td', {}, fmt(r.product.price)), h('td', {}, r.reason), h('td', {}, fmt(r.score, 3)))))
        : message('empty', 'No recommendations for this user with these filters.');
      const profile = h('div', { class: 'panel' }, message('info', 'Loading profile…'));
      out.replaceChildren(
        h('div', { class: 'row' },
          h('div', { class: 'panel', id: 'prediction' },
            h('h3', {}, `Next action — ${u.name ?? `user ${u.id}`}`),
            bars(p.nextAction.map((a) => ({ label: a.action.toLowerCase(), value: a.probability }))),
            h('p', {}, `P(purchase) within 1 day ${fmt(p.p1 * 100, 1)}%, 7 days ${fmt(p.p7 * 100, 1)}%, 30 days ${fmt(p.p30 * 100, 1)}%`),
            h('p', { class: 'muted' }, h('code', {}, `model ${p.modelVersion}`)),
          ),
          profile,
        ),
        h('div', { class: 'panel' }, h('h3', {}, 'Recommendations'), recs),
      );
      void loadProfile(profile);
    } catch (err) {
      showError(out, err);
    }
  }

  async function loadProfile(target: HTMLElement): Promise<void> {
    try {
      const d = await gql<{ user: { profile: { segment: string; topCategories: { name: string; share: number }[]; mobilityRadiusKm: number | null; priceSensitivity: number | null; lifetime: { events: number; purchases: number; revenue: number } } } }>(PROFILE, { id: id.value.trim() });
      const pr = d.user.profile;
      target.replaceChildren(
        h('h3', {}, 'Profile'),
        h('p', {}, `Segment: ${pr.segment.toLowerCase().replace('_', ' ')}`),
        h('p', {}, `Lifetime: ${pr.lifetime.events} events, ${pr.lifetime.purchases} purchases, revenue ${fmt(pr.lifetime.revenue)}`),
        h('p', {}, `Mobility radius ${fmt(pr.mobilityRadiusKm, 1)} km · price sensitivity ${fmt(pr.priceSensitivity)}`),
        bars(pr.topCategories.slice(0, 5).map((c) => ({ label: c.name, value: c.share }))),
      );
    } catch (err) {
      showError(target, err);
    }
  }

  if (defaultUserId) void load();
}
