/** Per-request DataLoaders for text classification: the reviews/products of one request share one model run. */
import type DataLoader from 'dataloader';
import { byKeyLoader } from '../graphql/loader-utils';
import type { SentimentSummaryData, TextClassificationData, TextClassifierService } from './text-classifier.service';

export interface NlpLoaders {
  /** Keyed by review text. */
  readonly reviewSentiment: DataLoader<string, TextClassificationData | null>;
  /** Keyed by product id. */
  readonly sentimentSummary: DataLoader<string, SentimentSummaryData>;
}

export function createNlpLoaders(s: { text: TextClassifierService }): NlpLoaders {
  return {
    reviewSentiment: byKeyLoader((bodies) => s.text.reviewSentiments(bodies)),
    sentimentSummary: byKeyLoader((ids) => s.text.productSummaries(ids)),
  };
}
