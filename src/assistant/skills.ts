/**
 * What the shop's intent model was not trained on but an assistant must handle: catalog requests
 * (similar products, recommendations, product facts) and small talk; and casual phrasings of
 * tracking an order, which the template-trained model reads poorly. Each skill is a handful of
 * example phrasings; a message matches the skill whose nearest example is most similar in the
 * intent model's sentence-embedding space (semantic: "anything like this?" finds "show me something
 * similar" without sharing a word). Example vectors are computed once per intent model version.
 */
import type { TextClassifierService } from '../nlp/text-classifier.service';

export type Skill = 'similar_products' | 'recommend' | 'product_info' | 'greeting' | 'thanks' | 'track_order';

export const SKILL_EXAMPLES: Readonly<Record<Skill, readonly string[]>> = {
  similar_products: [
    'show me something similar', 'do you have anything like this', 'similar products please', 'something like that one',
    'are there alternatives to this item', 'other items like this one', 'anything like it?', 'do you sell similar things',
    'what else is like this?', 'anything similar?',
  ],
  recommend: [
    'what do you recommend for me', 'suggest something I might like', 'any recommendations for me', 'what should I buy',
    'give me some product ideas',
  ],
  product_info: [
    'how much does it cost', 'is it in stock', 'what do other customers say about it', 'tell me about this product',
    'what is the rating of this item', 'is this product any good', 'what is the price of this', 'is it available?', 'tell me about it',
  ],
  greeting: ['hello', 'hi there', 'good morning', 'hey'],
  // A shop intent the Bitext-trained model often misreads when worded casually: the shop's own phrasings.
  track_order: ['where is my package', 'track my parcel', 'has my order been shipped', 'I am waiting for my delivery'],
  thanks: ['thank you', 'thanks, that is all', 'great, thanks a lot', 'bye'],
};

export interface SkillMatch {
  readonly skill: Skill;
  readonly similarity: number;
}

export class SkillMatcher {
  private cache: { model: string; vectors: { skill: Skill; v: Float32Array }[] } | null = null;

  constructor(private readonly text: TextClassifierService) {}

  async match(vector: Float32Array, modelVersion: string): Promise<SkillMatch> {
    const vectors = await this.examples(modelVersion);
    let best: SkillMatch = { skill: 'greeting', similarity: -1 };
    for (const e of vectors) {
      let s = 0;
      for (let i = 0; i < vector.length; i++) s += vector[i]! * e.v[i]!;
      if (s > best.similarity) best = { skill: e.skill, similarity: s };
    }
    return best;
  }

  private async examples(modelVersion: string) {
    if (this.cache?.model === modelVersion) return this.cache.vectors;
    const flat = (Object.entries(SKILL_EXAMPLES) as [Skill, readonly string[]][]).flatMap(([skill, xs]) => xs.map((x) => ({ skill, x })));
    const { embeddings, modelVersion: used } = await this.text.intentsWithEmbeddings(flat.map((f) => f.x));
    const vectors = flat.map((f, i) => ({ skill: f.skill, v: embeddings[i]! }));
    this.cache = { model: used, vectors };
    return vectors;
  }
}
