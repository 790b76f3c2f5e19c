export type { ModelLimits } from './budgets.js';
export type { ScriptedReply } from './chat-completions.js';
export { embed, float32Base64 } from './embeddings.js';
export { goDuration } from './go-duration.js';
export { countTokens, MODELS } from './models.js';
export {
  type OpenAIFakeOptions,
  openaiFake,
  type RunningOpenAIFake,
  startOpenAIFake,
} from './openai-fake.js';
