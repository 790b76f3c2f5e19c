import type { FastifyReply } from 'fastify';

export interface OpenAIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** OpenAI's error body: `{"error":{message, type, param, code}}`. */
export function sendOpenAIError(
  reply: FastifyReply,
  status: number,
  error: OpenAIErrorBody,
  headers: Record<string, string> = {},
) {
  return reply.status(status).headers(headers).type('application/json').send({ error });
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) => ({
  message,
  type: 'invalid_request_error',
  param,
  code,
});

/** The texts OpenAI answers with (providers-more.md §4; https://platform.openai.com/docs/guides/error-codes). */
export const ERRORS = {
  noKey: invalidRequest(
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
  ),
  badKey: (key: string) =>
    invalidRequest(
      `Incorrect API key provided: ${key.slice(0, 3)}${'*'.repeat(Math.max(0, Math.min(key.length - 7, 20)))}${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      null,
      'invalid_api_key',
    ),
  badJson: invalidRequest(
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
  ),
  quota: {
    message:
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
    type: 'insufficient_quota',
    param: null,
    code: 'insufficient_quota',
  },
  server: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    param: null,
    code: null,
  },
  overloaded: {
    message: 'That model is currently overloaded with other requests. You can retry your request.',
    type: 'server_error',
    param: null,
    code: null,
  },
  model: (model: string) =>
    invalidRequest(
      `The model \`${model}\` does not exist or you do not have access to it.`,
      null,
      'model_not_found',
    ),
  missing: (param: string) =>
    invalidRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter'),
  invalidType: (param: string, expected: string) =>
    invalidRequest(`Invalid type for '${param}': expected ${expected}.`, param, 'invalid_type'),
  notFound: (method: string, path: string) => invalidRequest(`Invalid URL (${method} ${path})`),
} as const;
