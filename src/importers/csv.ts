/** Streaming CSV reading (plain or .gz) for importers. */
import fs from 'node:fs';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import type { EventInputData } from '../events/event.service';
import type { Services } from '../services';

export type CsvRecord = Record<string, string>;

/** Records keyed by header, or by the given column names when the file has no header. */
export async function* readCsv(file: string, columns?: readonly string[]): AsyncGenerator<CsvRecord> {
  const raw = fs.createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const parser = input.pipe(
    parse({ columns: columns ? [...columns] : true, bom: true, relax_column_count: true, skip_empty_lines: true }),
  );
  for await (const record of parser) yield record as CsvRecord;
}

export async function readAll(file: string, columns?: readonly string[]): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of readCsv(file, columns)) out.push(r);
  return out;
}

/** Splits an array into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function numberOrNull(s: string | undefined): number | null {
  if (s === undefined || s.trim() === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/**
 * Converts a wall-clock time "YYYY-MM-DD HH:MM:SS" in an IANA zone to a UTC Date, honouring
 * historical DST (Brazil observed DST until 2019).
 */
export function zonedToUtc(local: string, timeZone: string): Date {
  const [d, t = '00:00:00'] = local.trim().split(/[ T]/) as [string, string?];
  const guess = new Date(`${d}T${t}Z`);
  const offsetAt = (at: Date) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(at);
    const v = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    const asUtc = Date.UTC(v('year'), v('month') - 1, v('day'), v('hour'), v('minute'), v('second'));
    return asUtc - at.getTime();
  };
  const first = new Date(guess.getTime() - offsetAt(guess));
  return new Date(guess.getTime() - offsetAt(first));
}

/** Ingests events through the public service in its largest batches; totals the outcome. */
export async function ingestAll(services: Services, events: readonly EventInputData[]): Promise<{ accepted: number; duplicates: number }> {
  let accepted = 0;
  let duplicates = 0;
  for (const part of chunks(events, 5000)) {
    const r = await services.events.ingest(part);
    accepted += r.accepted;
    duplicates += r.duplicates;
  }
  return { accepted, duplicates };
}
