/**
 * MapLibre 6 starts its worker from `maplibre-gl-worker.mjs` beside its own module; bundled, that
 * file is not there. The worker's source is bundled as text into the map's lazy chunk and started
 * from a blob: URL (same origin; the console's CSP has worker-src 'self' blob:). No network, no CDN.
 */
import { setWorkerUrl } from 'maplibre-gl';
import workerSource from 'maplibre-gl/dist/maplibre-gl-worker.mjs' with { type: 'text' };

let url: string | null = null;

export function useBundledWorker(): void {
  if (url) return;
  url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
  setWorkerUrl(url);
}
