/** Every serving resolver, for the schema's resolver list (type-graphql merges the User/Product/Review field resolvers). */
import { LabeledMessageResolver } from '../nlp/labeled-message.resolver';
import { MessageClassificationResolver, ProductSentimentResolver, ReviewSentimentResolver } from '../nlp/nlp.resolver';
import { BehaviorPredictionResolver, UserPredictionResolver } from '../predict/predict.resolver';
import { ProductSimilarityResolver, TrendingResolver, UserRecommendationResolver } from '../recommend/recommend.resolver';
import { InferenceResolver } from './inference.resolver';

export const servingResolvers = [
  UserPredictionResolver,
  BehaviorPredictionResolver,
  UserRecommendationResolver,
  ProductSimilarityResolver,
  TrendingResolver,
  ReviewSentimentResolver,
  ProductSentimentResolver,
  MessageClassificationResolver,
  LabeledMessageResolver,
  InferenceResolver,
] as const;
