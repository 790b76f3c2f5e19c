/**
 * `patchbay/testing`: helpers for users' own tests — a clock moved by hand, a scripted upstream, and the
 * provider fakes.
 */
export {
  type ChaosRateLimit,
  type ChaosRequest,
  type ChaosStats,
  type ChaosStep,
  ChaosUpstream,
  type ChaosUpstreamOptions,
  startChaosUpstream,
} from './chaos-upstream.js';
export { FakeClock, flushMicrotasks } from './fake-clock.js';
export {
  FAKE_PROVIDERS,
  type FakeOptionsByProvider,
  type FinaleFakeOptions,
  type FinaleSeed,
  type GitHubFakeOptions,
  type GitHubSeed,
  type HubSpotFakeOptions,
  type HubSpotSeed,
  type MessageInput,
  type MsGraphFakeOptions,
  type OpenAIFakeOptions,
  type RunningFake,
  type RunningFinaleFake,
  type RunningGitHubFake,
  type RunningHubSpotFake,
  type RunningMsGraphFake,
  type RunningOpenAIFake,
  type RunningSendGridFake,
  type RunningStripeFake,
  type SendGridFakeOptions,
  type StripeFakeOptions,
  type StripeSeed,
  startFake,
  startFinaleFake,
  startGitHubFake,
  startHubSpotFake,
  startMsGraphFake,
  startOpenAIFake,
  startSendGridFake,
  startStripeFake,
} from './fakes.js';
export {
  type FakeRecord,
  PAGINATION_STYLES,
  type PaginationStyle,
  type RecordsFakeOptions,
  type RecordsSyncRequestOptions,
  type RunningRecordsFake,
  recordsSyncRequest,
  startRecordsFake,
} from './records-fake/index.js';
