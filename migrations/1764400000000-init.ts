import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Core data model: catalog, users, behaviour events, reviews, regions. */
export class Init1764400000000 implements MigrationInterface {
  name = 'Init1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS postgis`);
    await q.query(`
      CREATE TABLE categories (
        id bigserial PRIMARY KEY,
        external_id text UNIQUE,
        name text NOT NULL UNIQUE,
        parent_id bigint REFERENCES categories(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE users (
        id bigserial PRIMARY KEY,
        external_id text UNIQUE,
        name text,
        email text,
        home_location geometry(Point, 4326),
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX users_home_location_gix ON users USING gist (home_location)`);
    await q.query(`CREATE INDEX users_created_at_idx ON users (created_at)`);
    await q.query(`
      CREATE TABLE products (
        id bigserial PRIMARY KEY,
        external_id text UNIQUE,
        category_id bigint REFERENCES categories(id),
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        price numeric(12, 2) NOT NULL CHECK (price >= 0),
        stock integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
        seller_location geometry(Point, 4326),
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX products_category_idx ON products (category_id)`);
    await q.query(`CREATE INDEX products_price_idx ON products (price)`);
    await q.query(`CREATE INDEX products_seller_location_gix ON products USING gist (seller_location)`);
    await q.query(
      `CREATE INDEX products_text_idx ON products USING gin (to_tsvector('simple', name || ' ' || description))`,
    );
    await q.query(`
      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        idempotency_key text NOT NULL,
        user_id bigint NOT NULL REFERENCES users(id),
        product_id bigint REFERENCES products(id),
        type text NOT NULL CHECK (type IN ('view', 'search', 'cart', 'purchase', 'favorite')),
        occurred_at timestamptz NOT NULL,
        location geometry(Point, 4326),
        h3_r9 bigint,
        session_id text,
        quantity integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
        price numeric(12, 2),
        query text,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_idempotency_key_uq UNIQUE (idempotency_key),
        CONSTRAINT events_product_required CHECK (type = 'search' OR product_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX events_occurred_at_idx ON events (occurred_at)`);
    await q.query(`CREATE INDEX events_user_time_idx ON events (user_id, occurred_at DESC)`);
    await q.query(`CREATE INDEX events_product_time_idx ON events (product_id, occurred_at DESC)`);
    await q.query(`CREATE INDEX events_location_gix ON events USING gist (location)`);
    await q.query(`
      CREATE TABLE reviews (
        id bigserial PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users(id),
        product_id bigint NOT NULL REFERENCES products(id),
        rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
        title text,
        body text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT reviews_user_product_uq UNIQUE (user_id, product_id)
      )`);
    await q.query(`CREATE INDEX reviews_product_idx ON reviews (product_id, created_at DESC)`);
    await q.query(`CREATE INDEX reviews_created_at_idx ON reviews (created_at)`);
    await q.query(`
      CREATE TABLE regions (
        id bigserial PRIMARY KEY,
        code text NOT NULL UNIQUE,
        name text NOT NULL,
        kind text NOT NULL DEFAULT 'region',
        geom geometry(MultiPolygon, 4326) NOT NULL
      )`);
    await q.query(`CREATE INDEX regions_geom_gix ON regions USING gist (geom)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['regions', 'reviews', 'events', 'products', 'users', 'categories']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
