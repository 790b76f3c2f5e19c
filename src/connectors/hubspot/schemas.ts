import { z } from 'zod';

/**
 * HubSpot's answers as the calls read them (https://developers.hubspot.com/docs/api/crm/understanding-the-crm):
 * every property value a string or null, dates as ISO strings; fields the calls do not use pass through.
 */
export const hubspotObjectSchema = z
  .object({
    id: z.string(),
    properties: z.record(z.string(), z.string().nullable()),
    createdAt: z.string(),
    updatedAt: z.string(),
    archived: z.boolean().default(false),
    archivedAt: z.string().optional(),
    propertiesWithHistory: z
      .record(
        z.string(),
        z.array(z.object({ value: z.string(), timestamp: z.string(), sourceType: z.string() }).loose()),
      )
      .optional(),
    associations: z
      .record(
        z.string(),
        z.object({ results: z.array(z.object({ id: z.string(), type: z.string() }).loose()) }).loose(),
      )
      .optional(),
  })
  .loose();

export type HubSpotObject = z.output<typeof hubspotObjectSchema>;

const paging = z
  .object({ next: z.object({ after: z.string() }).loose().optional() })
  .loose()
  .optional();

export const objectPageSchema = z.object({ results: z.array(hubspotObjectSchema), paging }).loose();

export const searchPageSchema = z
  .object({ total: z.number(), results: z.array(hubspotObjectSchema), paging })
  .loose();

/** One error of a batch answer (207): which inputs it is about is in `context`. */
export const batchErrorSchema = z
  .object({
    status: z.string().optional(),
    category: z.string().default('UNKNOWN'),
    message: z.string().default(''),
    subCategory: z.unknown().optional(),
    context: z.record(z.string(), z.array(z.string())).optional(),
  })
  .loose();

export type BatchError = z.output<typeof batchErrorSchema>;

export const batchResultSchema = z
  .object({
    status: z.string(),
    results: z.array(
      hubspotObjectSchema.extend({ objectWriteTraceId: z.string().optional(), new: z.boolean().optional() }),
    ),
    numErrors: z.number().optional(),
    errors: z.array(batchErrorSchema).optional(),
  })
  .loose();

export const propertySchema = z
  .object({
    name: z.string(),
    label: z.string(),
    type: z.string(),
    fieldType: z.string(),
    groupName: z.string(),
    description: z.string().optional(),
    hasUniqueValue: z.boolean().optional(),
    options: z.array(z.object({ label: z.string(), value: z.string() }).loose()).default([]),
    archived: z.boolean().optional(),
  })
  .loose();

export type HubSpotProperty = z.output<typeof propertySchema>;

export const propertiesSchema = z.object({ results: z.array(propertySchema) }).loose();

export const ownerSchema = z
  .object({
    id: z.string(),
    email: z.string().optional(),
    firstName: z.string().optional(),
    lastName: z.string().optional(),
    userId: z.number().optional(),
    archived: z.boolean().optional(),
  })
  .loose();

export type HubSpotOwner = z.output<typeof ownerSchema>;

export const ownerPageSchema = z.object({ results: z.array(ownerSchema), paging }).loose();

/** v4 ids come as numbers in JSON; the calls hand them out as strings like every other id. */
const objectId = z.union([z.string(), z.number()]).transform(String);

export const associationTypeSchema = z
  .object({ category: z.string(), typeId: z.number(), label: z.string().nullable().optional() })
  .loose();

export const associatedSchema = z
  .object({ toObjectId: objectId, associationTypes: z.array(associationTypeSchema) })
  .loose();

export type HubSpotAssociation = z.output<typeof associatedSchema>;

export const associationBatchReadSchema = z
  .object({
    results: z.array(
      z.object({ from: z.object({ id: objectId }), to: z.array(associatedSchema), paging }).loose(),
    ),
    errors: z.array(batchErrorSchema).optional(),
  })
  .loose();

export const associationBatchWriteSchema = z
  .object({ results: z.array(z.unknown()), errors: z.array(batchErrorSchema).optional() })
  .loose();
