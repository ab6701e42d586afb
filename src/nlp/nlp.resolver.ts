/** Review.sentiment, Product.sentimentSummary and Query.classifyMessage. Thin: loaders and one service call. */
import { Arg, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { Rule } from '../auth/auth-checker';
import { Product, Review } from '../catalog/catalog.types';
import type { ProductEntity } from '../catalog/product.entity';
import type { ReviewEntity } from '../catalog/review.entity';
import type { Context } from '../graphql/context';
import { MessageClassification, ReviewSentiment, SentimentSummary } from './nlp.types';

@Resolver(() => Review)
export class ReviewSentimentResolver {
  @FieldResolver(() => ReviewSentiment, { nullable: true, description: 'Sentiment model on the review text; null when the review has no text.' })
  async sentiment(@Root() r: ReviewEntity, @Ctx() ctx: Context): Promise<ReviewSentiment | null> {
    const c = await ctx.loaders.reviewSentiment.load(r.body ?? '');
    return c ? { label: c.label, score: c.confidence, modelVersion: c.modelVersion } : null;
  }
}

@Resolver(() => Product)
export class ProductSentimentResolver {
  @FieldResolver(() => SentimentSummary)
  async sentimentSummary(@Root() p: ProductEntity, @Ctx() ctx: Context) {
    return ctx.loaders.sentimentSummary.load(p.id);
  }
}

@Resolver(() => MessageClassification)
export class MessageClassificationResolver {
  @Authorized(Rule.FRONTEND)
  @Query(() => MessageClassification, { description: 'Intent of a customer-service message (1–2000 characters).' })
  async classifyMessage(@Ctx() ctx: Context, @Arg('text') text: string): Promise<MessageClassification> {
    const c = await ctx.services.text.classifyMessage(text);
    return {
      intent: c.label,
      confidence: c.confidence,
      alternatives: c.scores.slice(1, 6).map((s) => ({ intent: s.label, confidence: s.probability })),
      modelVersion: c.modelVersion,
    };
  }
}
