import { z } from 'zod';

/**
 * The fields of GitHub's objects Patchbay reads, validated; the rest of each object is kept as it came
 * (`loose`), so a record stored by a sync is GitHub's whole object.
 */
export const userSchema = z.object({ login: z.string(), id: z.number() }).loose();

export const repoSchema = z
  .object({
    id: z.number(),
    name: z.string(),
    full_name: z.string(),
    private: z.boolean(),
    owner: userSchema,
    default_branch: z.string().optional(),
    updated_at: z.string().nullable().optional(),
  })
  .loose();

const labelSchema = z.union([z.string(), z.object({ name: z.string() }).loose()]);

export const issueSchema = z
  .object({
    id: z.number(),
    number: z.number(),
    title: z.string(),
    body: z.string().nullable().optional(),
    state: z.enum(['open', 'closed']),
    user: userSchema.nullable(),
    labels: z.array(labelSchema),
    created_at: z.string(),
    updated_at: z.string(),
    closed_at: z.string().nullable(),
    /** Present when the "issue" is a pull request: GitHub lists both on the issues endpoint. */
    pull_request: z.object({ url: z.string() }).loose().optional(),
  })
  .loose();

const refSchema = z.object({ ref: z.string(), sha: z.string() }).loose();

export const pullSchema = z
  .object({
    id: z.number(),
    number: z.number(),
    title: z.string(),
    body: z.string().nullable().optional(),
    state: z.enum(['open', 'closed']),
    user: userSchema.nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    closed_at: z.string().nullable(),
    merged_at: z.string().nullable(),
    draft: z.boolean().optional(),
    head: refSchema,
    base: refSchema,
  })
  .loose();

export const hookSchema = z
  .object({
    id: z.number(),
    active: z.boolean(),
    events: z.array(z.string()),
    config: z.object({ url: z.string().optional(), content_type: z.string().optional() }).loose(),
  })
  .loose();

export const deliverySchema = z
  .object({
    id: z.number(),
    guid: z.string(),
    delivered_at: z.string(),
    redelivery: z.boolean(),
    status: z.string(),
    status_code: z.number(),
    event: z.string(),
    action: z.string().nullable().optional(),
  })
  .loose();

export const mergeSchema = z
  .object({ merged: z.boolean(), sha: z.string().nullable().optional(), message: z.string() })
  .loose();

export type GitHubUser = z.output<typeof userSchema>;
export type GitHubRepo = z.output<typeof repoSchema>;
export type GitHubIssue = z.output<typeof issueSchema>;
export type GitHubPull = z.output<typeof pullSchema>;
export type GitHubHook = z.output<typeof hookSchema>;
export type GitHubDelivery = z.output<typeof deliverySchema>;
