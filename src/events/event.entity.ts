import type { Point } from 'geojson';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { numericTransformer } from '../db/transformers';

export const EVENT_TYPES = ['view', 'search', 'cart', 'purchase', 'favorite'] as const;
export type EventTypeName = (typeof EVENT_TYPES)[number];

@Entity({ name: 'events' })
export class EventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'idempotency_key', type: 'text' })
  idempotencyKey!: string;

  @Column({ name: 'user_id', type: 'bigint' })
  userId!: string;

  @Column({ name: 'product_id', type: 'bigint', nullable: true })
  productId!: string | null;

  @Column({ type: 'text' })
  type!: EventTypeName;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ type: 'geometry', spatialFeatureType: 'Point', srid: 4326, nullable: true })
  location!: Point | null;

  @Column({ name: 'h3_r9', type: 'bigint', nullable: true })
  h3r9!: string | null;

  @Column({ name: 'session_id', type: 'text', nullable: true })
  sessionId!: string | null;

  @Column({ type: 'integer', default: 1 })
  quantity!: number;

  @Column({ type: 'numeric', precision: 12, scale: 2, nullable: true, transformer: numericTransformer })
  price!: number | null;

  @Column({ type: 'text', nullable: true })
  query!: string | null;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;
}
