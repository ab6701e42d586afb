/** GraphQL types of the customer-service assistant: conversations, turns, grounding, actions, policy answers. */
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../graphql/connection';
import { JSONObjectScalar } from '../graphql/scalars';
import { IntentScore } from '../nlp/nlp.types';

export const ConversationStatus = { OPEN: 'open', HANDOFF: 'handoff', CLOSED: 'closed' } as const;
registerEnumType(ConversationStatus, {
  name: 'ConversationStatus',
  description: 'OPEN: the assistant answers; HANDOFF: waiting for a person (the admins\' queue); CLOSED: no more messages.',
});

export const HandoffReason = {
  REQUESTED: 'REQUESTED', OUT_OF_SCOPE: 'OUT_OF_SCOPE', LOW_CONFIDENCE: 'LOW_CONFIDENCE', REPEATED_FAILURE: 'REPEATED_FAILURE',
  COMPLAINT: 'COMPLAINT', NO_ANSWER: 'NO_ANSWER',
} as const;
registerEnumType(HandoffReason, {
  name: 'HandoffReason',
  description: 'Why a person takes over: asked for one, a request the shop does not handle, a message not understood, two failures in a row, a complaint, or no policy answer.',
});

export const GroundingKind = { ORDER: 'ORDER', PRODUCT: 'PRODUCT', REVIEW: 'REVIEW', POLICY: 'POLICY', RECOMMENDATION: 'RECOMMENDATION' } as const;
registerEnumType(GroundingKind, { name: 'GroundingKind' });

@ObjectType({ description: 'A record a reply rests on: a database row (order, product, review, policy answer, recommendation) as fields.' })
export class Grounding {
  @Field(() => GroundingKind) kind!: string;
  @Field(() => ID, { description: 'Order number, product id, review id, policy key.' }) id!: string;
  @Field(() => JSONObjectScalar) fields!: Record<string, unknown>;
}

@ObjectType({ description: 'Something the frontend can offer after a reply (the assistant itself changes nothing).' })
export class AssistantAction {
  @Field({ description: 'TRACK_ORDER, CANCEL_ORDER, CHANGE_ORDER, CHANGE_SHIPPING_ADDRESS, START_RETURN, TRACK_REFUND, DOWNLOAD_INVOICE, WRITE_REVIEW, VIEW_PRODUCT, CHOOSE_ORDER, CONTACT_AGENT.' })
  kind!: string;
  @Field() label!: string;
  @Field(() => JSONObjectScalar, { description: 'e.g. { orderId, productId }.' }) payload!: Record<string, unknown>;
}

@ObjectType({ description: "One customer message and the assistant's reply." })
export class AssistantTurn {
  @Field(() => ID) id!: string;
  @Field(() => ID) conversationId!: string;
  @Field(() => Int, { description: '1 for the first message of the conversation.' }) seq!: number;
  @Field({ description: "The customer's message." }) text!: string;
  @Field() reply!: string;
  @Field({ description: 'template (grounded template reply) or model (the optional language model; checked against the grounding).' }) replySource!: string;
  @Field(() => IntentScore, { description: 'Intent of the message: a shop intent, a catalog skill (similar_products, recommend, product_info), greeting/thanks, or out_of_scope.' })
  intent!: IntentScore;
  @Field(() => Float, { description: 'Confidence of the intent (probability, or similarity for catalog skills).' }) confidence!: number;
  @Field(() => [Grounding]) grounding!: Grounding[];
  @Field(() => [AssistantAction]) actions!: AssistantAction[];
  @Field() handoff!: boolean;
  @Field(() => HandoffReason, { nullable: true }) handoffReason!: string | null;
  @Field(() => String, { nullable: true, description: 'Intent model version that read the message.' }) modelVersion!: string | null;
  @Field(() => String, { nullable: true, description: "An admin's intent label (INTENT training data)." }) label!: string | null;
  @Field() createdAt!: Date;
}

@ObjectType({ description: 'What the assistant keeps between turns.' })
export class ConversationContext {
  @Field(() => ID, { nullable: true, description: 'The order under discussion.' }) orderId!: string | null;
  @Field(() => ID, { nullable: true, description: 'The product under discussion.' }) productId!: string | null;
  @Field(() => String, { nullable: true }) lastIntent!: string | null;
  @Field(() => String, { nullable: true, description: 'The intent of a pending "which order?" question.' }) pendingIntent!: string | null;
  @Field(() => [ID], { description: 'The orders that question offered.' }) pendingOrderIds!: string[];
}

@ObjectType({ description: 'A conversation of one user with the customer-service assistant.' })
export class Conversation {
  @Field(() => ID) id!: string;
  @Field(() => ID) userId!: string;
  @Field({ description: 'The language tag the conversation was started with.' }) locale!: string;
  @Field({ description: 'The language replies are written in (English where the locale has no templates yet).' }) replyLocale!: string;
  @Field(() => ConversationStatus) status!: string;
  @Field(() => HandoffReason, { nullable: true }) handoffReason!: string | null;
  @Field(() => Date, { nullable: true }) handoffAt!: Date | null;
  @Field(() => Int) turnCount!: number;
  @Field(() => ConversationContext) context!: ConversationContext;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@ObjectType()
export class ConversationConnection extends Connection(Conversation, 'Conversation') {}

@InputType()
export class StartConversationInput {
  @Field(() => ID, { description: 'The user who converses (a frontend key: its own user).' }) userId!: string;
  @Field(() => String, { nullable: true, description: 'Language tag, default en.' }) locale?: string | null;
}

@ObjectType({ description: "A shop policy answer that admins maintain; the assistant retrieves it by meaning." })
export class PolicyAnswer {
  @Field(() => ID) id!: string;
  @Field() key!: string;
  @Field() question!: string;
  @Field() answer!: string;
  @Field(() => String, { nullable: true }) intent!: string | null;
  @Field() updatedAt!: Date;
}

@InputType()
export class PolicyAnswerInput {
  @Field({ description: 'Stable key (1–100: lowercase letters, digits, _ . : -); an existing key is replaced.' }) key!: string;
  @Field({ description: 'The question, as a customer might ask it (1–500 characters).' }) question!: string;
  @Field({ description: 'The answer the assistant gives verbatim (1–2000 characters).' }) answer!: string;
  @Field(() => String, { nullable: true, description: 'The intent it serves, e.g. check_refund_policy (optional; preferred when it matches).' })
  intent?: string | null;
}

@ObjectType({ description: "A turn's reply as the reply model writes it: deltas while it streams, then the reply that stands." })
export class AssistantReplyEvent {
  @Field(() => ID) turnId!: string;
  @Field({ description: "Text added since the previous event ('' on the final event)." }) delta!: string;
  @Field({ description: 'The reply so far; on the final event, the reply that stands.' }) text!: string;
  @Field() done!: boolean;
  @Field({ description: 'model while streaming; on the final event model, or template when the template stands.' }) replySource!: string;
  @Field(() => String, {
    nullable: true,
    description: 'Final event of a generation: model, or why the template stands (ungrounded, empty, timeout, cancelled, error).',
  })
  outcome!: string | null;
}

export const ShipmentStatus = { PROCESSING: 'processing', SHIPPED: 'shipped', DELIVERED: 'delivered', RETURNED: 'returned', LOST: 'lost' } as const;
registerEnumType(ShipmentStatus, { name: 'ShipmentStatus' });

@InputType({ description: "What the platform knows about an order's delivery; the assistant states it (status, dates)." })
export class OrderShipmentInput {
  @Field(() => ID) userId!: string;
  @Field({ description: "The order's reference: the sessionId its purchase events carry (1–200 characters)." }) orderRef!: string;
  @Field(() => ShipmentStatus) status!: 'processing' | 'shipped' | 'delivered' | 'returned' | 'lost';
  @Field(() => Date, { nullable: true }) shippedAt?: Date | null;
  @Field(() => Date, { nullable: true }) estimatedDeliveryAt?: Date | null;
  @Field(() => Date, { nullable: true, description: 'Required when the status is DELIVERED.' }) deliveredAt?: Date | null;
}
