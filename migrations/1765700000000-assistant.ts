import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The customer-service assistant (issue 20): conversations (one user each, with the dialogue state
 * the assistant keeps between turns), their turns (the customer's text, the reply, the intent, the
 * grounding and actions it used, handoff, an admin's label), and the shop's policy answers that
 * admins maintain (question/answer pairs, retrieved by sentence embedding).
 *
 * A turn is written once, with the reply, in the same transaction that advances the conversation's
 * `version`: two messages racing on one conversation cannot both land on the same state. A client
 * may send a message id; a retry with the same id returns the stored turn instead of a second one.
 *
 * With a reply model configured, a turn is stored with its template reply and lm_status 'pending';
 * the first assistantReply subscription claims it ('generating'), streams the model's reply, and
 * ends it 'done' (the checked model reply replaces the template, kept in template_reply) or
 * 'fallback' (the template stands).
 *
 * Erasure: conversations (and their turns, by cascade) and order shipments are deleted with the user; a labelled turn's
 * copy in labeled_messages names its source turn and goes with it (ON DELETE CASCADE).
 */
export class Assistant1765700000000 implements MigrationInterface {
  name = 'Assistant1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE conversations (
      id bigserial PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES users(id),
      locale text NOT NULL,
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'handoff', 'closed')),
      handoff_reason text,
      handoff_at timestamptz,
      state jsonb NOT NULL DEFAULT '{}'::jsonb,
      version integer NOT NULL DEFAULT 0,
      turn_count integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX conversations_user_idx ON conversations (user_id, created_at DESC)`);
    await q.query(`CREATE INDEX conversations_updated_idx ON conversations (updated_at DESC, id DESC)`);
    await q.query(`CREATE INDEX conversations_handoff_idx ON conversations (handoff_at, id) WHERE status = 'handoff'`);
    await q.query(`CREATE TABLE conversation_turns (
      id bigserial PRIMARY KEY,
      conversation_id bigint NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
      seq integer NOT NULL,
      client_message_id text,
      text text NOT NULL,
      reply text NOT NULL,
      reply_source text NOT NULL DEFAULT 'template',
      intent text NOT NULL,
      confidence real NOT NULL,
      grounding jsonb NOT NULL DEFAULT '[]'::jsonb,
      actions jsonb NOT NULL DEFAULT '[]'::jsonb,
      handoff boolean NOT NULL DEFAULT false,
      handoff_reason text,
      model_version text,
      template_reply text,
      lm_status text CHECK (lm_status IN ('pending', 'generating', 'done', 'fallback')),
      lm_finish text,
      lm_claimed_at timestamptz,
      label text,
      labeled_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT conversation_turns_seq_uq UNIQUE (conversation_id, seq),
      CONSTRAINT conversation_turns_client_id_uq UNIQUE (conversation_id, client_message_id)
    )`);
    await q.query(`CREATE TABLE policy_answers (
      id bigserial PRIMARY KEY,
      key text NOT NULL UNIQUE,
      question text NOT NULL,
      answer text NOT NULL,
      intent text,
      embedding real[],
      embedding_model text,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    // What the platform knows about an order's delivery (importers, upsertOrderShipments), keyed by
    // the order's reference: the session id its purchase events carry (e.g. Olist's olist:<order id>).
    await q.query(`CREATE TABLE order_shipments (
      user_id bigint NOT NULL REFERENCES users(id),
      order_ref text NOT NULL,
      status text NOT NULL CHECK (status IN ('processing', 'shipped', 'delivered', 'returned', 'lost')),
      shipped_at timestamptz,
      estimated_delivery_at timestamptz,
      delivered_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, order_ref)
    )`);
    await q.query(`ALTER TABLE labeled_messages ADD COLUMN source_turn_id bigint REFERENCES conversation_turns(id) ON DELETE CASCADE`);
    await q.query(`CREATE INDEX labeled_messages_source_turn ON labeled_messages (source_turn_id) WHERE source_turn_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE labeled_messages DROP COLUMN IF EXISTS source_turn_id`);
    for (const t of ['order_shipments', 'policy_answers', 'conversation_turns', 'conversations']) await q.query(`DROP TABLE IF EXISTS ${t}`);
  }
}
