export type { AppRegistration } from './apps.js';
export type { FakeSettings, FakeSettingsInput } from './fake-settings.js';
export { MailControl, type MessageChanges } from './mail-control.js';
export type { MessageInput } from './message-factory.js';
export { MsGraphFake } from './msgraph-fake.js';
export { type MsGraphFakeOptions, type RunningMsGraphFake, startMsGraphFake } from './start-msgraph-fake.js';
