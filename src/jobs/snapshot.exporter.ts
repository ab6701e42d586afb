/**
 * Exports a training data snapshot from Postgres in the trainer's documented format
 * (trainer/README.md "Snapshot format"): events.csv, products.csv, users.csv, reviews.csv,
 * snapshot.json and, for intent jobs, texts.csv (labelled customer messages; only for them, since
 * the trainer's sentiment kind would prefer texts.csv over reviews). Rows are read in keyset pages, so memory stays flat for large tables, and
 * files are written under a temp name and renamed, so a reader never sees half a snapshot.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DataSource } from 'typeorm';

export interface SnapshotWindow {
  /** Events with occurred_at ≥ from (inclusive); all history when absent. */
  readonly from?: Date | null;
  /** Events with occurred_at < to (exclusive); up to now when absent. */
  readonly to?: Date | null;
}

export interface SnapshotOptions {
  /** Write texts.csv from labeled_messages (created in the window): the data of intent jobs. */
  readonly texts?: boolean;
}

export interface SnapshotCounts {
  events: number;
  products: number;
  users: number;
  reviews: number;
  texts?: number;
}

const PAGE = 20_000;

function scalarText(v: string | number | bigint | boolean): string {
  return String(v);
}

/** RFC 4180 field quoting. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  // Rows hold scalars (the SELECTs below): text, numbers, booleans, timestamps; JSON for anything else.
  const s = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : scalarText(v as string | number | bigint | boolean);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function writeCsv(
  file: string,
  header: readonly string[],
  pages: AsyncGenerator<readonly unknown[][]>,
): Promise<number> {
  const tmp = `${file}.tmp`;
  const out = fs.createWriteStream(tmp);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write(`${header.join(',')}\n`);
  let n = 0;
  for await (const rows of pages) {
    await write(rows.map((r) => r.map(csvField).join(',')).join('\n') + (rows.length ? '\n' : ''));
    n += rows.length;
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  fs.renameSync(tmp, file);
  return n;
}

/** Keyset pages of `sql`, which must select an `id` column, filter with `id > $1`, order by id and LIMIT $2. */
async function* pages(ds: DataSource, sql: string, params: unknown[], map: (r: Record<string, unknown>) => unknown[]) {
  let after = '0';
  for (;;) {
    const rows = await ds.query<Record<string, unknown>[]>(sql, [after, PAGE, ...params]);
    if (rows.length === 0) return;
    yield rows.map(map);
    after = String(rows[rows.length - 1]!.id);
    if (rows.length < PAGE) return;
  }
}

export async function exportSnapshot(
  ds: DataSource,
  dir: string,
  window: SnapshotWindow = {},
  opts: SnapshotOptions = {},
): Promise<SnapshotCounts> {
  fs.mkdirSync(dir, { recursive: true });
  const from = window.from ?? new Date(0);
  const to = window.to ?? new Date();
  const events = await writeCsv(
    path.join(dir, 'events.csv'),
    ['user_id', 'product_id', 'type', 'occurred_at', 'lat', 'lng', 'session_id', 'quantity', 'price'],
    pages(
      ds,
      `SELECT id, user_id, product_id, type, occurred_at, ST_Y(location) AS lat, ST_X(location) AS lng, session_id, quantity, price
       FROM events WHERE id > $1 AND occurred_at >= $3 AND occurred_at < $4 ORDER BY id LIMIT $2`,
      [from, to],
      (r) => [r.user_id, r.product_id, r.type, r.occurred_at, r.lat, r.lng, r.session_id, r.quantity, r.price],
    ),
  );
  const products = await writeCsv(
    path.join(dir, 'products.csv'),
    ['product_id', 'category_id', 'category_name', 'price', 'title', 'lat', 'lng'],
    pages(
      ds,
      `SELECT p.id, p.category_id, c.name AS category_name, p.price, p.name, ST_Y(p.seller_location) AS lat, ST_X(p.seller_location) AS lng
       FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE p.id > $1 ORDER BY p.id LIMIT $2`,
      [],
      (r) => [r.id, r.category_id, r.category_name, r.price, r.name, r.lat, r.lng],
    ),
  );
  const users = await writeCsv(
    path.join(dir, 'users.csv'),
    ['user_id', 'lat', 'lng', 'created_at'],
    pages(
      ds,
      `SELECT id, ST_Y(home_location) AS lat, ST_X(home_location) AS lng, created_at FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
      [],
      (r) => [r.id, r.lat, r.lng, r.created_at],
    ),
  );
  const reviews = await writeCsv(
    path.join(dir, 'reviews.csv'),
    ['review_id', 'user_id', 'product_id', 'rating', 'text', 'created_at'],
    pages(
      ds,
      `SELECT id, user_id, product_id, rating, body, created_at FROM reviews
       WHERE id > $1 AND created_at >= $3 AND created_at < $4 ORDER BY id LIMIT $2`,
      [from, to],
      (r) => [r.id, r.user_id, r.product_id, r.rating, r.body, r.created_at],
    ),
  );
  const counts: SnapshotCounts = { events, products, users, reviews };
  if (opts.texts) {
    counts.texts = await writeCsv(
      path.join(dir, 'texts.csv'),
      ['text', 'label'],
      pages(
        ds,
        `SELECT id, text, intent FROM labeled_messages
         WHERE id > $1 AND created_at >= $3 AND created_at < $4 ORDER BY id LIMIT $2`,
        [from, to],
        (r) => [r.text, r.intent],
      ),
    );
  }
  fs.writeFileSync(
    path.join(dir, 'snapshot.json'),
    JSON.stringify({ created_at: new Date().toISOString(), window: { from: window.from ?? null, to }, counts }, null, 2),
  );
  return counts;
}
