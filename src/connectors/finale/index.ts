export { type FinaleApi, finaleApi, type OrderInput, type StockLevel } from './api.js';
export { finaleFilter, finaleTime, fromColumns } from './columns.js';
export { finaleConnector } from './connector.js';
export {
  FINALE_HOST,
  type FinaleSettings,
  finaleDefinition,
  finaleErrorReader,
  finaleRateLimits,
  finaleSettingsSchema,
} from './definition.js';
export type {
  FinaleFacility,
  FinaleInventoryItem,
  FinaleOrder,
  FinalePartyGroup,
  FinaleProduct,
  FinaleVariance,
} from './schemas.js';
export {
  finalePurchaseOrders,
  finaleStock,
  finaleVendors,
  type PurchaseOrderRecord,
  purchaseOrderSchema,
  type StockRecord,
  stockId,
  stockRecordSchema,
  type VendorRecord,
  vendorRecordSchema,
} from './sync/index.js';
