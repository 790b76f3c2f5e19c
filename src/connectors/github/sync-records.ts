import { z } from 'zod';
import type { GitHubIssue, GitHubPull } from './schemas.js';

/**
 * The records the GitHub sync models store: the fields people sync, flattened, so that what changes
 * only in GitHub's presentation (avatar URLs, reaction counts) does not count as a change.
 */
export const issueRecordSchema = z.object({
  id: z.string(),
  number: z.number(),
  title: z.string(),
  body: z.string().nullable(),
  state: z.enum(['open', 'closed']),
  stateReason: z.string().nullable(),
  labels: z.array(z.string()),
  author: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  closedAt: z.string().nullable(),
  url: z.string().nullable(),
});

export const pullRecordSchema = issueRecordSchema.omit({ stateReason: true }).extend({
  draft: z.boolean(),
  head: z.string(),
  base: z.string(),
  mergedAt: z.string().nullable(),
});

export type IssueRecord = z.output<typeof issueRecordSchema>;
export type PullRecord = z.output<typeof pullRecordSchema>;

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function issueRecord(issue: GitHubIssue): IssueRecord {
  return {
    id: String(issue.id),
    number: issue.number,
    title: issue.title,
    body: issue.body ?? null,
    state: issue.state,
    stateReason: text(issue.state_reason),
    labels: issue.labels.map((l) => (typeof l === 'string' ? l : l.name)),
    author: issue.user?.login ?? null,
    createdAt: issue.created_at,
    updatedAt: issue.updated_at,
    closedAt: issue.closed_at,
    url: text(issue.html_url),
  };
}

export function pullRecord(pull: GitHubPull): PullRecord {
  const labels = Array.isArray(pull.labels) ? (pull.labels as { name?: unknown }[]) : [];
  return {
    id: String(pull.id),
    number: pull.number,
    title: pull.title,
    body: pull.body ?? null,
    state: pull.state,
    labels: labels.map((l) => String(l.name)),
    author: pull.user?.login ?? null,
    createdAt: pull.created_at,
    updatedAt: pull.updated_at,
    closedAt: pull.closed_at,
    url: text(pull.html_url),
    draft: pull.draft ?? false,
    head: pull.head.ref,
    base: pull.base.ref,
    mergedAt: pull.merged_at,
  };
}
