/** The MapLibre worker's source, imported as text (see maplibre-worker.ts). */
declare module 'maplibre-gl/dist/maplibre-gl-worker.mjs' {
  const text: string;
  export default text;
}
