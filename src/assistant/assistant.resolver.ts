/**
 * Conversations with the assistant (frontend keys as their own user, admins as anyone; partners
 * never), the admins' conversation list, handoff queue, turn labels, and policy answers. Thin.
 */
import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import { ValidationError } from '../common/errors';
import { toConnection } from '../graphql/connection';
import type { Context } from '../graphql/context';
import { readState } from './dialogue-state';
import type { ConversationData, TurnData } from './conversation.repository';
import { templatesFor } from './replies';
import {
  AssistantReplyEvent, AssistantTurn, Conversation, ConversationConnection, ConversationStatus, OrderShipmentInput, PolicyAnswer, PolicyAnswerInput,
  StartConversationInput,
} from './assistant.types';

const MAX_TURNS = 200;

export function toConversation(c: ConversationData): Conversation {
  const s = readState(c.state);
  return {
    id: c.id, userId: c.userId, locale: c.locale, replyLocale: templatesFor(c.locale).locale, status: c.status, handoffReason: c.handoffReason,
    handoffAt: c.handoffAt, turnCount: c.turnCount, createdAt: c.createdAt, updatedAt: c.updatedAt,
    context: { orderId: s.orderId, productId: s.productId, lastIntent: s.lastIntent, pendingIntent: s.pending?.intent ?? null, pendingOrderIds: [...(s.pending?.orderIds ?? [])] },
  };
}

export function toTurn(t: TurnData): AssistantTurn {
  return {
    id: t.id, conversationId: t.conversationId, seq: t.seq, text: t.text, reply: t.reply, replySource: t.replySource,
    intent: { intent: t.intent, confidence: t.confidence }, confidence: t.confidence,
    grounding: t.grounding.map((g) => ({ kind: g.kind, id: g.id, fields: { ...g.fields } })),
    actions: t.actions.map((a) => ({ kind: a.kind, label: a.label, payload: { ...a.payload } })),
    handoff: t.handoff, handoffReason: t.handoffReason, modelVersion: t.modelVersion, label: t.label, createdAt: t.createdAt,
  };
}

@Resolver(() => Conversation)
export class ConversationResolver {
  @Authorized(Rule.FRONTEND)
  @Mutation(() => Conversation, { description: 'Start a conversation with the customer-service assistant (a frontend key: as its own user).' })
  async startConversation(@Ctx() ctx: Context, @Arg('input') input: StartConversationInput): Promise<Conversation> {
    return toConversation(await ctx.services.conversations.start(ctx.principal, input.userId, input.locale));
  }

  @Authorized(Rule.FRONTEND)
  @Mutation(() => AssistantTurn, {
    description: 'Send a message (1–2000 characters) and get the reply. A retry with the same clientMessageId returns the stored turn.',
  })
  async sendMessage(
    @Ctx() ctx: Context,
    @Arg('conversationId', () => ID) conversationId: string,
    @Arg('text') text: string,
    @Arg('clientMessageId', () => String, { nullable: true }) clientMessageId?: string | null,
  ): Promise<AssistantTurn> {
    return toTurn(await ctx.services.conversations.send(ctx.principal, conversationId, text, clientMessageId));
  }

  @Authorized(Rule.FRONTEND)
  @Query(() => Conversation, { description: "A conversation: its owner's frontend key or an admin." })
  async conversation(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Conversation> {
    return toConversation(await ctx.services.conversations.get(ctx.principal, id));
  }

  @Authorized(Rule.ADMIN)
  @Query(() => ConversationConnection, { description: 'Conversations, latest activity first; status HANDOFF is the handoff queue, oldest handoff first.' })
  async conversations(
    @Ctx() ctx: Context,
    @Arg('status', () => ConversationStatus, { nullable: true }) status?: 'open' | 'handoff' | 'closed' | null,
    @Arg('userId', () => ID, { nullable: true }) userId?: string | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    const page = await ctx.services.conversations.list({ status, userId }, first, after);
    return toConnection({ ...page, items: page.items.map(toConversation) });
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => Conversation, { description: 'Take a conversation off the handoff queue (OPEN), or close it (CLOSED).' })
  async setConversationStatus(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('status', () => ConversationStatus) status: 'open' | 'handoff' | 'closed',
  ): Promise<Conversation> {
    return toConversation(await ctx.services.conversations.setStatus(id, status));
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => AssistantTurn, { description: "Label a turn's message with its true intent; the text joins the INTENT training data (labelMessages)." })
  async labelTurn(@Ctx() ctx: Context, @Arg('turnId', () => ID) turnId: string, @Arg('intent') intent: string): Promise<AssistantTurn> {
    return toTurn(await ctx.services.conversations.label(turnId, intent));
  }

  @Authorized(Rule.FRONTEND)
  @Subscription(() => AssistantReplyEvent, {
    description: "A turn's reply: with a reply model configured, its tokens as they are written, then the reply that stands (checked against the grounding); otherwise the stored reply at once. Over graphql-ws at /graphql.",
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const turnId = String((args as { turnId: string }).turnId);
      return withTurnId(turnId, await ctx.services.conversations.reply(ctx.principal, turnId, new AbortController().signal));
    },
  })
  assistantReply(@Root() e: AssistantReplyEvent, @Arg('turnId', () => ID) _turnId: string): AssistantReplyEvent {
    return e;
  }

  @FieldResolver(() => [AssistantTurn], { description: 'The newest `last` turns (default 50, at most 200), oldest first.' })
  async turns(@Root() c: Conversation, @Ctx() ctx: Context, @Arg('last', () => Int, { nullable: true }) last?: number | null): Promise<AssistantTurn[]> {
    const n = last ?? 50;
    if (!Number.isInteger(n) || n < 1 || n > MAX_TURNS) throw ValidationError.of('last', `must be an integer between 1 and ${MAX_TURNS}`);
    return (await ctx.loaders.conversationTurns(n).load(c.id)).map(toTurn);
  }
}

@Resolver(() => PolicyAnswer)
export class PolicyAnswerResolver {
  @Authorized(Rule.ADMIN)
  @Mutation(() => [PolicyAnswer], { description: 'Insert or replace shop policy answers by key (up to 500, all or nothing).' })
  async upsertPolicyAnswers(@Ctx() ctx: Context, @Arg('answers', () => [PolicyAnswerInput]) answers: PolicyAnswerInput[]) {
    return ctx.services.policyAnswers.upsert(answers);
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => Int, { description: 'Delete policy answers by key; returns how many were deleted.' })
  async deletePolicyAnswers(@Ctx() ctx: Context, @Arg('keys', () => [String]) keys: string[]) {
    return ctx.services.policyAnswers.remove(keys);
  }

  @Authorized(Rule.ADMIN)
  @Mutation(() => Int, { description: 'Record orders\' shipments (status and dates; the same user and orderRef replace it), all or nothing; returns how many were written.' })
  async upsertOrderShipments(@Ctx() ctx: Context, @Arg('shipments', () => [OrderShipmentInput]) shipments: OrderShipmentInput[]) {
    return ctx.services.orderShipments.upsert(shipments.map((x) => ({
      userId: x.userId, orderRef: x.orderRef, status: x.status,
      shippedAt: x.shippedAt ?? null, estimatedDeliveryAt: x.estimatedDeliveryAt ?? null, deliveredAt: x.deliveredAt ?? null,
    })));
  }

  @Authorized(Rule.ADMIN)
  @Query(() => [PolicyAnswer], { description: 'Every policy answer, by key.' })
  async policyAnswers(@Ctx() ctx: Context) {
    return ctx.services.policyAnswers.list();
  }
}

async function* withTurnId(turnId: string, events: AsyncIterable<Omit<AssistantReplyEvent, 'turnId'>>): AsyncGenerator<AssistantReplyEvent> {
  for await (const e of events) yield { ...e, turnId };
}
