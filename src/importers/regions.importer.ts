/** Imports a GeoJSON FeatureCollection of (Multi)Polygons as named regions. */
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Services } from '../services';
import { chunks } from './csv';

export interface RegionImportOptions {
  /** Feature property holding the region code (e.g. "sigla"). */
  readonly codeProperty: string;
  /** Feature property holding the display name. Defaults to "name". */
  readonly nameProperty?: string;
  /** Prefix added to codes, e.g. "br-state:". Defaults to "". */
  readonly codePrefix?: string;
  readonly kind?: string;
}

interface Feature {
  properties: Record<string, unknown>;
  geometry: { type: string; coordinates: unknown };
}

export async function importRegions(services: Services, file: string, opts: RegionImportOptions): Promise<number> {
  const buf = fs.readFileSync(file);
  const json = JSON.parse((file.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8')) as { features: Feature[] };
  const regions = json.features.map((f) => ({
    code: `${opts.codePrefix ?? ''}${String(f.properties[opts.codeProperty])}`,
    name: String(f.properties[opts.nameProperty ?? 'name']),
    kind: opts.kind ?? 'region',
    geometry: f.geometry,
  }));
  let n = 0;
  for (const part of chunks(regions, 50)) n += await services.regions.upsert(part, { repairInvalid: true });
  return n;
}
