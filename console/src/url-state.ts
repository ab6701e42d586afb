/**
 * A view's choices (metric, window, area, …) live in the URL after the route, `#/map?metric=REVENUE&from=…`,
 * so a view can be bookmarked and shared. Writing replaces the history entry and fires no hashchange.
 */
export function readParams(): URLSearchParams {
  const i = location.hash.indexOf('?');
  return new URLSearchParams(i >= 0 ? location.hash.slice(i + 1) : '');
}

export function writeParams(values: Record<string, string | null | undefined>): void {
  const params = readParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === null || v === undefined || v === '') params.delete(k);
    else params.set(k, v);
  }
  const route = location.hash.split('?')[0] || '#/';
  const query = params.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${route}${query ? `?${query}` : ''}`);
}
