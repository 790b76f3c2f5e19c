/**
 * The provider fakes, for users' own tests: `startFake('github')` or the named starter. Each serves the
 * provider's API on 127.0.0.1 with the control plane under `/_fake/` (reset, seed, faults, clock, stats).
 */
import type { RunningFake } from '../connectors/fake-kit/index.js';
import { type FinaleFakeOptions, startFinaleFake } from '../connectors/finale/fake/index.js';
import { type GitHubFakeOptions, startGitHubFake } from '../connectors/github/fake/index.js';
import { type HubSpotFakeOptions, startHubSpotFake } from '../connectors/hubspot/fake/index.js';
import { type MsGraphFakeOptions, startMsGraphFake } from '../connectors/msgraph/fake/index.js';
import { type OpenAIFakeOptions, startOpenAIFake } from '../connectors/openai/fake/index.js';
import { type SendGridFakeOptions, startSendGridFake } from '../connectors/sendgrid/fake/index.js';
import { type StripeFakeOptions, startStripeFake } from '../connectors/stripe/fake/index.js';

export type { RunningFake } from '../connectors/fake-kit/index.js';
export {
  type FinaleFakeOptions,
  type FinaleSeed,
  type RunningFinaleFake,
  startFinaleFake,
} from '../connectors/finale/fake/index.js';
export {
  type GitHubFakeOptions,
  type GitHubSeed,
  type RunningGitHubFake,
  startGitHubFake,
} from '../connectors/github/fake/index.js';
export {
  type HubSpotFakeOptions,
  type HubSpotSeed,
  type RunningHubSpotFake,
  startHubSpotFake,
} from '../connectors/hubspot/fake/index.js';
export {
  type MessageInput,
  type MsGraphFakeOptions,
  type RunningMsGraphFake,
  startMsGraphFake,
} from '../connectors/msgraph/fake/index.js';
export {
  type OpenAIFakeOptions,
  type RunningOpenAIFake,
  startOpenAIFake,
} from '../connectors/openai/fake/index.js';
export {
  type RunningSendGridFake,
  type SendGridFakeOptions,
  startSendGridFake,
} from '../connectors/sendgrid/fake/index.js';
export {
  type RunningStripeFake,
  type StripeFakeOptions,
  type StripeSeed,
  startStripeFake,
} from '../connectors/stripe/fake/index.js';

/** Options of each provider's fake, by the name `startFake` and `patchbay fake` take. */
export interface FakeOptionsByProvider {
  github: GitHubFakeOptions;
  hubspot: HubSpotFakeOptions;
  sendgrid: SendGridFakeOptions;
  openai: OpenAIFakeOptions;
  stripe: StripeFakeOptions;
  msgraph: MsGraphFakeOptions;
  finale: FinaleFakeOptions;
}

const starters: {
  [P in keyof FakeOptionsByProvider]: (options?: FakeOptionsByProvider[P]) => Promise<RunningFake>;
} = {
  github: startGitHubFake,
  hubspot: startHubSpotFake,
  sendgrid: startSendGridFake,
  openai: startOpenAIFake,
  stripe: startStripeFake,
  msgraph: startMsGraphFake,
  finale: startFinaleFake,
};

/** The providers there is a fake for. */
export const FAKE_PROVIDERS = Object.keys(starters) as (keyof FakeOptionsByProvider)[];

export function startFake<P extends keyof FakeOptionsByProvider>(
  provider: P,
  options?: FakeOptionsByProvider[P],
): Promise<RunningFake> {
  const start = starters[provider];
  if (!start) {
    return Promise.reject(
      new TypeError(
        `no fake for provider ${JSON.stringify(provider)}; there are fakes for ${FAKE_PROVIDERS.join(', ')}`,
      ),
    );
  }
  return start(options);
}
