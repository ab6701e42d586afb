/**
 * How a user's erasure reaches the assistant (an ErasurePart, wired in src/services.ts): the
 * user's conversations go, their turns with them (ON DELETE CASCADE), and so do the copies of
 * labelled turns in labeled_messages (linked to their turn, cascading too), and the user's order
 * shipments.
 */
import type { ErasurePart } from '../privacy/erasure-registry';

export const assistantErasure: ErasurePart = {
  name: 'assistant',
  hook: async (db, userId) => {
    await db.query(`DELETE FROM conversations WHERE user_id = $1`, [userId]);
    await db.query(`DELETE FROM order_shipments WHERE user_id = $1`, [userId]);
  },
  stores: [{ table: 'conversations', userColumn: 'user_id' }, { table: 'order_shipments', userColumn: 'user_id' }],
};
