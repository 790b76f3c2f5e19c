export type { ChatCompletion, ChatCompletionChunk, ChatRequest } from './chat.js';
export {
  type EmbeddingsResult,
  type EmbedOptions,
  type OpenAIApi,
  openaiApi,
  openaiConnector,
} from './connector.js';
export { OPENAI_API, type OpenAISettings, openaiDefinition } from './definition.js';
export { openaiErrorReader } from './errors.js';
export { parseGoDuration } from './go-duration.js';
export { type Admission, ModelBudgets, type ModelLimits } from './model-budgets.js';
export { estimateChatTokens, estimateTokens } from './tokens.js';
