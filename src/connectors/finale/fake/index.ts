export { toColumns } from './column-major.js';
export {
  type FinaleFakeOptions,
  type FinaleSeed,
  finaleFake,
  type RunningFinaleFake,
  startFinaleFake,
} from './finale-fake.js';
export { finaleTime, parseFinaleTime } from './finale-time.js';
