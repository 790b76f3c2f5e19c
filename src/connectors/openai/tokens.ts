/** What the estimate reads of a chat request. */
export interface CountedChat {
  messages: readonly { content?: unknown }[];
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
}

/**
 * Tokens a text will take, estimated before the call: a token is about four characters of English
 * (https://help.openai.com/en/articles/4936856). Rounded up, so the estimate leans high: an answer
 * that says fewer remain corrects the budget, a low estimate would overrun it.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * What a chat call is counted for before it runs, the way OpenAI counts it: the prompt (with each
 * message's overhead) plus the completion it may produce — `max_tokens`, else `expected` — per choice.
 */
export function estimateChatTokens(request: CountedChat, expected: number): number {
  let prompt = 3;
  for (const message of request.messages) prompt += 4 + estimateTokens(textOf(message.content));
  const completion = request.max_completion_tokens ?? request.max_tokens ?? expected;
  return prompt + completion * (request.n ?? 1);
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part?.text === 'string' ? part.text : typeof part === 'string' ? part : ''))
      .join(' ');
  }
  return '';
}
