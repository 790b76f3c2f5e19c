import { z } from 'zod';

/** The fields of Finale's entities that Patchbay reads; the rest passes through (`loose`). */
export const productSchema = z
  .object({
    productId: z.string(),
    productUrl: z.string(),
    internalName: z.string().nullable(),
    statusId: z.string().nullable(),
    lastUpdatedDate: z.string().nullable().optional(),
  })
  .loose();

export const facilitySchema = z
  .object({
    facilityId: z.string(),
    facilityUrl: z.string(),
    facilityName: z.string().nullable(),
    parentFacilityUrl: z.string().nullable().optional(),
  })
  .loose();

export const partyGroupSchema = z
  .object({
    partyId: z.string(),
    partyUrl: z.string(),
    groupName: z.string().nullable(),
    roleTypeIdList: z.array(z.string()).nullable(),
    statusId: z.string().nullable(),
    lastUpdatedDate: z.string().nullable().optional(),
  })
  .loose();

const orderItem = z
  .object({ productUrl: z.string(), quantity: z.number(), unitPrice: z.number().nullable().optional() })
  .loose();

export const orderSchema = z
  .object({
    orderId: z.string(),
    orderUrl: z.string(),
    orderTypeId: z.enum(['PURCHASE_ORDER', 'SALES_ORDER']),
    statusId: z.enum(['ORDER_CREATED', 'ORDER_LOCKED', 'ORDER_COMPLETED', 'ORDER_CANCELLED']),
    orderItemList: z.array(orderItem).nullable(),
    orderRoleList: z.array(z.object({ roleTypeId: z.string(), partyId: z.string() }).loose()).nullable(),
    destinationFacilityUrl: z.string().nullable().optional(),
    originFacilityUrl: z.string().nullable().optional(),
    actionUrlLock: z.string().nullable().optional(),
    actionUrlComplete: z.string().nullable().optional(),
    actionUrlCancel: z.string().nullable().optional(),
    lastUpdatedDate: z.string().nullable().optional(),
  })
  .loose();

export const inventoryItemSchema = z
  .object({
    productId: z.string().nullable(),
    productUrl: z.string(),
    facilityUrl: z.string().nullable(),
    quantityOnHand: z.number().nullable(),
    quantityOnOrder: z.number().nullable(),
    quantityReserved: z.number().nullable(),
  })
  .loose();

export const varianceSchema = z
  .object({
    physicalInventoryId: z.string(),
    physicalInventoryUrl: z.string(),
    statusId: z.string(),
    facilityUrl: z.string(),
    inventoryItemVarianceList: z
      .array(z.object({ productUrl: z.string(), quantityOnHandVar: z.number() }).loose())
      .nullable()
      .optional(),
    actionUrlCommit: z.string().nullable().optional(),
    lastUpdatedDate: z.string().nullable().optional(),
  })
  .loose();

export type FinaleProduct = z.output<typeof productSchema>;
export type FinaleFacility = z.output<typeof facilitySchema>;
export type FinalePartyGroup = z.output<typeof partyGroupSchema>;
export type FinaleOrder = z.output<typeof orderSchema>;
export type FinaleInventoryItem = z.output<typeof inventoryItemSchema>;
export type FinaleVariance = z.output<typeof varianceSchema>;
