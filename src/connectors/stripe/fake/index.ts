export type { StripeFakeOptions } from './options.js';
export { type RunningStripeFake, type StripeSeed, startStripeFake, stripeFake } from './stripe-fake.js';
export { TEST_CARDS } from './test-cards.js';
