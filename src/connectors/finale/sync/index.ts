export { finalePurchaseOrders, type PurchaseOrderRecord, purchaseOrderSchema } from './purchase-orders.js';
export { finaleStock, type StockRecord, stockId, stockRecordSchema } from './stock.js';
export { finaleVendors, type VendorRecord, vendorRecordSchema } from './vendors.js';
