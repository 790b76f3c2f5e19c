export { FakeProviderClock } from './fake-clock.js';
export {
  type FakeKit,
  type FakeProvider,
  type FakeServerOptions,
  INVALID_JSON,
  type RunningFake,
  startFakeServer,
} from './fake-server.js';
export { FaultInjector, type FaultRule } from './faults.js';
export { FixedWindows, type PeriodLimit, type WindowAnswer } from './fixed-windows.js';
