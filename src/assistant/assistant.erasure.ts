/**
 * How a user's erasure reaches the assistant (an ErasurePart, wired in src/services.ts): the
 * user's conversations go, their turns with them (ON DELETE CASCADE), and so do the copies of
 * labelled turns in labeled_messages (linked to their turn, cascading too), and the user's order
 * shipments; a quote of one of the user's reviews in another user's turn (product facts) is removed
 * from its reply and grounding.
 */
import type { ErasurePart } from '../privacy/erasure-registry';

export const assistantErasure: ErasurePart = {
  name: 'assistant',
  hook: async (db, userId) => {
    await db.query(`DELETE FROM conversations WHERE user_id = $1`, [userId]);
    // Other users' turns that quoted one of this user's reviews (product facts): the quote goes.
    await db.query(
      `WITH mine AS (SELECT id::text AS id FROM reviews WHERE user_id = $1),
            quoted AS (SELECT ct.id, g.e->'fields'->>'text' AS snippet
                         FROM conversation_turns ct CROSS JOIN LATERAL jsonb_array_elements(ct.grounding) g(e)
                        WHERE g.e->>'kind' = 'REVIEW' AND g.e->>'id' IN (SELECT id FROM mine))
       UPDATE conversation_turns ct SET
         grounding = (SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM jsonb_array_elements(ct.grounding) e
                       WHERE NOT (e->>'kind' = 'REVIEW' AND e->>'id' IN (SELECT id FROM mine))),
         reply = replace(ct.reply, q.snippet, '[review removed]'),
         template_reply = replace(ct.template_reply, q.snippet, '[review removed]')
       FROM quoted q WHERE ct.id = q.id`,
      [userId],
    );
    await db.query(`DELETE FROM order_shipments WHERE user_id = $1`, [userId]);
  },
  stores: [{ table: 'conversations', userColumn: 'user_id' }, { table: 'order_shipments', userColumn: 'user_id' }],
};
