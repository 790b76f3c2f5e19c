import type { Input } from './resource-type.js';
import { checkUpdatable, type ResourceType, refuse, text } from './resource-type.js';

type VarianceItem = {
  facilityUrl: string;
  productId: string;
  productUrl: string;
  quantityOnHandVar: number;
  lotId: string | null;
  normalizedPackingString: string | null;
};

/**
 * Inventory variances: stock changes as deltas (`quantityOnHandVar`) per item, every item's facility
 * the header's, a `physicalInventoryTypeId` required. Nothing moves until `actionUrlCommit`;
 * `actionUrlCancel` drops it. The id may be the client's (`physicalInventoryId`). Committed and cancelled variances cannot change.
 */
export const varianceType: ResourceType = {
  collection: 'inventoryvariance',
  idField: 'physicalInventoryId',
  urlField: 'physicalInventoryUrl',
  fields: [
    'physicalInventoryId',
    'physicalInventoryUrl',
    'physicalInventoryTypeId',
    'facilityUrl',
    'statusId',
    'physicalInventoryDate',
    'inventoryItemVarianceList',
    'actionUrlCommit',
    'actionUrlCancel',
    'createdDate',
    'lastUpdatedDate',
  ],
  scalars: new Set([
    'physicalInventoryId',
    'physicalInventoryTypeId',
    'facilityUrl',
    'statusId',
    'createdDate',
    'lastUpdatedDate',
  ]),
  create(input, store) {
    const type = text(input, 'physicalInventoryTypeId', true);
    const facilityUrl = text(input, 'facilityUrl', true);
    if (!store.byUrl('facility', facilityUrl)) refuse('facilityUrl names no facility');
    // A client-chosen id, as orders take one: a retried create answers 409 instead of moving stock twice.
    const id = text(input, 'physicalInventoryId') ?? store.nextId();
    if (store.get('inventoryvariance', id)) refuse(`inventory variance ${id} already exists`, 409);
    store.put('inventoryvariance', id, {
      physicalInventoryId: id,
      physicalInventoryUrl: store.url('inventoryvariance', id),
      physicalInventoryTypeId: type,
      facilityUrl,
      statusId: 'PHSCL_INV_INPUT',
      physicalInventoryDate: text(input, 'physicalInventoryDate') ?? store.time(),
      inventoryItemVarianceList: items(input, facilityUrl!, store),
    });
    return id;
  },
  update(variance, input, store) {
    if (variance.statusId !== 'PHSCL_INV_INPUT')
      refuse(
        `variance ${variance.physicalInventoryId as string} is ${variance.statusId as string} and cannot be edited`,
      );
    checkUpdatable(varianceType, variance, input);
    if (input.facilityUrl !== undefined && input.facilityUrl !== variance.facilityUrl)
      refuse('facilityUrl cannot be changed');
    if (input.inventoryItemVarianceList !== undefined) {
      variance.inventoryItemVarianceList = items(input, variance.facilityUrl as string, store);
    }
    store.touch(variance);
  },
  actions: {
    commit: {
      field: 'actionUrlCommit',
      available: (v) => v.statusId === 'PHSCL_INV_INPUT',
      run(variance, store) {
        for (const item of variance.inventoryItemVarianceList as VarianceItem[]) {
          store.addStock(
            {
              facilityUrl: item.facilityUrl,
              productUrl: item.productUrl,
              lotId: item.lotId,
              normalizedPackingString: item.normalizedPackingString,
              orderUrl: null,
              kind: 'quantityOnHand',
            },
            item.quantityOnHandVar,
          );
        }
        variance.statusId = 'PHSCL_INV_COMMITTED';
      },
    },
    cancel: {
      field: 'actionUrlCancel',
      available: (v) => v.statusId === 'PHSCL_INV_INPUT',
      run(variance) {
        variance.statusId = 'PHSCL_INV_CANCELLED';
      },
    },
  },
};

function items(
  input: Input,
  facilityUrl: string,
  store: Parameters<NonNullable<ResourceType['create']>>[1],
): VarianceItem[] {
  const list = input.inventoryItemVarianceList;
  if (!Array.isArray(list) || list.length === 0)
    refuse('inventoryItemVarianceList must list at least one item');
  return (list as Input[]).map((item, i) => {
    const product =
      store.byUrl('product', item?.productUrl) ??
      (typeof item?.productId === 'string' ? store.get('product', item.productId) : undefined);
    if (!product) refuse(`inventoryItemVarianceList[${i}] names no product`);
    const itemFacility = item.facilityUrl ?? facilityUrl;
    if (itemFacility !== facilityUrl)
      refuse(`inventoryItemVarianceList[${i}].facilityUrl must be the variance's facilityUrl`);
    if (
      typeof item.quantityOnHandVar !== 'number' ||
      !Number.isFinite(item.quantityOnHandVar) ||
      item.quantityOnHandVar === 0
    ) {
      refuse(`inventoryItemVarianceList[${i}].quantityOnHandVar must be a non-zero number`);
    }
    return {
      facilityUrl,
      productId: product!.productId as string,
      productUrl: product!.productUrl as string,
      quantityOnHandVar: item.quantityOnHandVar as number,
      lotId: (item.lotId as string | undefined) ?? null,
      normalizedPackingString: (item.normalizedPackingString as string | undefined) ?? null,
    };
  });
}
