export * from './hooks.js';
export * from './issues.js';
export * from './pulls.js';
export * from './repo-ref.js';
export type { IssueState } from './types.js';
