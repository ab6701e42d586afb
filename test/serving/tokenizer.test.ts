/** The TypeScript WordPiece tokenizer reproduces the HF tokenizer's ids on the trainer's parity fixture. */
import fs from 'node:fs';
import path from 'node:path';
import { normalizeText, preTokenize, WordPieceTokenizer } from '../../src/nlp/wordpiece-tokenizer';

const ROOT = path.resolve(__dirname, '../..');
const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'trainer/tests/fixtures/tokenizer_parity.json'), 'utf8')) as {
  max_length: number;
  cases: { lang: string; text: string; input_ids: number[] }[];
};
// The shipped MiniLM text models carry the vocabulary the fixture was made with.
const vocabPath = ['intent', 'sentiment'].map((k) => path.join(ROOT, 'model-artifacts', k, 'vocab.txt')).find((p) => fs.existsSync(p))!;
const tokenizer = WordPieceTokenizer.fromVocabText(fs.readFileSync(vocabPath, 'utf8'), { maxLength: fixture.max_length });

describe('WordPiece tokenizer parity with the HF tokenizer', () => {
  it('covers Chinese, Portuguese, English and edge cases', () => {
    const langs = new Set(fixture.cases.map((c) => c.lang));
    expect(fixture.cases.length).toBeGreaterThanOrEqual(200);
    expect([...langs].sort()).toEqual(expect.arrayContaining(['edge', 'en', 'pt', 'zh']));
  });

  it.each(['zh', 'pt', 'en', 'edge'])('reproduces every input_ids of the %s cases', (lang) => {
    const cases = fixture.cases.filter((c) => c.lang === lang);
    const mismatches = cases.filter((c) => JSON.stringify(tokenizer.encode(c.text)) !== JSON.stringify(c.input_ids));
    expect(mismatches.map((c) => c.text)).toEqual([]);
  });

  it('pads a batch with [PAD] and masks the padding', () => {
    const b = tokenizer.encodeBatch(['hello world', 'hi']);
    expect(b.seqLen).toBe(4);
    expect(Array.from(b.inputIds, Number)).toEqual([101, 7592, 2088, 102, 101, 7632, 102, 0]);
    expect(Array.from(b.attentionMask, Number)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
  });

  it('normalises like BertNormalizer and splits punctuation', () => {
    expect(normalizeText('Olá\u200b ÇA\tva 中文')).toBe('ola ca va  中  文 ');
    expect(preTokenize("don't stop!")).toEqual(['don', "'", 't', 'stop', '!']);
    expect(tokenizer.encode('x'.repeat(101))).toEqual([101, 100, 102]);
  });
});
