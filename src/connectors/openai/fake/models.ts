import type { ModelLimits } from './budgets.js';

export interface FakeModel {
  id: string;
  kind: 'chat' | 'embedding';
  /** What the answers name: the dated snapshot an alias points at. */
  snapshot: string;
  contextWindow: number;
  /** Embedding models: the vector's native length. */
  dimensions?: number;
  /** Whether `dimensions` may shorten the vector (the v3 embedding models). */
  shortenable?: boolean;
  limits: ModelLimits;
}

const chat = (id: string, snapshot: string, contextWindow: number): FakeModel => ({
  id,
  kind: 'chat',
  snapshot,
  contextWindow,
  limits: { rpm: 500, tpm: 200_000 },
});
const embedding = (id: string, dimensions: number, shortenable: boolean): FakeModel => ({
  id,
  kind: 'embedding',
  snapshot: id,
  contextWindow: 8192,
  dimensions,
  shortenable,
  limits: { rpm: 3_000, tpm: 1_000_000 },
});

/** The models the fake serves, with tier-1-like limits (each changeable with the `limits` option). */
export const MODELS: readonly FakeModel[] = [
  chat('gpt-4o-mini', 'gpt-4o-mini-2024-07-18', 128_000),
  chat('gpt-4o', 'gpt-4o-2024-08-06', 128_000),
  chat('gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14', 1_047_576),
  embedding('text-embedding-3-small', 1536, true),
  embedding('text-embedding-3-large', 3072, true),
  embedding('text-embedding-ada-002', 1536, false),
];

/**
 * The fake's tokenizer: words split into pieces of up to four letters, digits in threes, each other
 * non-space character a token. Deterministic and close to BPE on English text; callers only estimate.
 */
export function countTokens(text: string): number {
  let tokens = 0;
  for (const piece of text.match(/[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d]/g) ?? []) {
    tokens += /^[A-Za-z]/.test(piece) ? Math.ceil(piece.length / 4) : 1;
  }
  return tokens;
}

/** The pieces `countTokens` counts, with the spaces before them: what a stream sends chunk by chunk. */
export function tokenPieces(text: string): string[] {
  const pieces: string[] = [];
  for (const match of text.matchAll(/\s*([A-Za-z]+|\d{1,3}|[^\sA-Za-z\d])/g)) {
    const [whole, word] = match;
    if (/^[A-Za-z]/.test(word!)) {
      const lead = whole.slice(0, whole.length - word!.length);
      for (let i = 0; i < word!.length; i += 4) pieces.push((i === 0 ? lead : '') + word!.slice(i, i + 4));
    } else {
      pieces.push(whole);
    }
  }
  return pieces;
}
