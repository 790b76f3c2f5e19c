import { finalePurchaseOrders, finaleStock, finaleVendors } from '../../../src/connectors/finale/index.js';
import { defineSync } from '../../../src/sync/index.js';

/** The three Finale syncs the tests run over one connection: stock (local-wins), vendors, orders. */
export function finaleSyncs(connection: string) {
  const options = { lookback: 5000 };
  return {
    stock: defineSync({
      id: 'stock',
      connection,
      model: finaleStock.name,
      conflicts: 'local-wins',
      ...finaleStock.define(options),
    }),
    vendors: defineSync({
      id: 'vendors',
      connection,
      model: finaleVendors.name,
      ...finaleVendors.define(options),
    }),
    orders: defineSync({
      id: 'orders',
      connection,
      model: finalePurchaseOrders.name,
      ...finalePurchaseOrders.define(options),
    }),
  };
}
