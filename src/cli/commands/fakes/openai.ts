import { Command } from 'commander';
import { parseCount, parsePort, runFake } from '../fake.js';

/** The fake is loaded when it is started, not for `--help`. */
const loadFake = () => import('../../../connectors/openai/fake/index.js');

interface OpenAIFakeFlags {
  port: number;
  apiKey?: string;
  rpm?: number;
  tpm?: number;
  chunkDelay?: number;
}

export function openaiFakeCommand(): Command {
  return new Command('openai')
    .description(
      'OpenAI /v1: chat completions (streamed too), embeddings, models, request and token budgets.',
    )
    .option('-p, --port <port>', 'port to listen on (0: any free port)', parsePort, 0)
    .option('--api-key <key>', 'accept only this key (default: any key of the form sk-…)')
    .option('--rpm <n>', 'requests per minute per key and model (default: by model)', parseCount('--rpm'))
    .option('--tpm <n>', 'tokens per minute per key and model (default: by model)', parseCount('--tpm'))
    .option('--chunk-delay <ms>', 'pause between streamed chunks (default: 0)', parseCount('--chunk-delay'))
    .action(async (flags: OpenAIFakeFlags) => {
      const limits =
        flags.rpm === undefined && flags.tpm === undefined
          ? undefined
          : Object.fromEntries(
              (await loadFake()).MODELS.map((m) => [
                m.id,
                { rpm: flags.rpm ?? m.limits.rpm, tpm: flags.tpm ?? m.limits.tpm },
              ]),
            );
      await runFake('openai', async () =>
        (await loadFake()).startOpenAIFake({
          port: flags.port,
          ...(flags.apiKey !== undefined && { apiKey: flags.apiKey }),
          ...(limits && { limits }),
          ...(flags.chunkDelay !== undefined && { chunkDelayMs: flags.chunkDelay }),
        }),
      );
    });
}
