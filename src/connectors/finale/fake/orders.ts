import type { Entity, FinaleStore } from './finale-store.js';
import { checkUpdatable, type Input, oneOf, type ResourceType, refuse, text } from './resource-type.js';

type OrderItem = {
  orderItemUrl: string;
  productId: string;
  productUrl: string;
  unitPrice: number;
  quantity: number;
  normalizedPackingString: string | null;
};

const isPurchase = (order: Entity) => order.orderTypeId === 'PURCHASE_ORDER';
const facilityOf = (order: Entity) =>
  (isPurchase(order) ? order.destinationFacilityUrl : order.originFacilityUrl) as string;

/**
 * Orders, purchase and sales: `ORDER_CREATED` (the only editable state) → lock → `ORDER_LOCKED` →
 * complete → `ORDER_COMPLETED`, or cancel (from created or locked) → `ORDER_CANCELLED`, which cancels
 * its shipments; completed and cancelled orders cannot change. A locked purchase order puts its items
 * on order at its destination facility and completing it receives them on hand; a locked sales order
 * reserves stock and completing it ships it.
 */
export const orderType: ResourceType = {
  collection: 'order',
  idField: 'orderId',
  urlField: 'orderUrl',
  fields: [
    'orderId',
    'orderUrl',
    'orderTypeId',
    'statusId',
    'orderDate',
    'destinationFacilityUrl',
    'originFacilityUrl',
    'orderItemList',
    'orderRoleList',
    'shipmentUrlList',
    'actionUrlLock',
    'actionUrlComplete',
    'actionUrlCancel',
    'createdDate',
    'lastUpdatedDate',
  ],
  scalars: new Set([
    'orderId',
    'orderTypeId',
    'statusId',
    'orderDate',
    'destinationFacilityUrl',
    'originFacilityUrl',
    'createdDate',
    'lastUpdatedDate',
  ]),
  create(input, store) {
    const id = text(input, 'orderId') ?? store.nextId();
    if (store.get('order', id)) refuse(`order ${id} already exists`, 409);
    const type = oneOf(input, 'orderTypeId', ['PURCHASE_ORDER', 'SALES_ORDER']);
    const url = store.url('order', id);
    const order = store.put('order', id, {
      orderId: id,
      orderUrl: url,
      orderTypeId: type,
      statusId: 'ORDER_CREATED',
      orderDate: text(input, 'orderDate') ?? store.time(),
      destinationFacilityUrl: null,
      originFacilityUrl: null,
      orderItemList: [],
      orderRoleList: [],
      shipmentUrlList: [],
    });
    apply(order, input, store);
    return id;
  },
  update(order, input, store) {
    if (order.statusId !== 'ORDER_CREATED')
      refuse(`order ${order.orderId as string} is ${order.statusId as string} and cannot be edited`);
    checkUpdatable(orderType, order, input);
    if (input.orderTypeId !== undefined && input.orderTypeId !== order.orderTypeId)
      refuse('orderTypeId cannot be changed');
    apply(order, input, store);
    store.touch(order);
  },
  actions: {
    lock: {
      field: 'actionUrlLock',
      available: (o) => o.statusId === 'ORDER_CREATED',
      run(order, store) {
        if ((order.orderItemList as OrderItem[]).length === 0)
          refuse('an order without items cannot be locked');
        for (const item of order.orderItemList as OrderItem[]) {
          store.addStock(
            stockKey(order, item, isPurchase(order) ? 'quantityOnOrder' : 'quantityReserved'),
            item.quantity,
          );
        }
        const shipmentId = store.nextId();
        store.put('shipment', shipmentId, {
          shipmentId,
          shipmentUrl: store.url('shipment', shipmentId),
          shipmentTypeId: isPurchase(order) ? 'PURCHASE_SHIPMENT' : 'SALES_SHIPMENT',
          statusId: 'SHIPMENT_INPUT',
          primaryOrderUrl: order.orderUrl,
        });
        (order.shipmentUrlList as string[]).push(store.url('shipment', shipmentId));
        order.statusId = 'ORDER_LOCKED';
      },
    },
    complete: {
      field: 'actionUrlComplete',
      available: (o) => o.statusId === 'ORDER_LOCKED',
      run(order, store) {
        store.clearOrderStock(order.orderUrl as string);
        for (const item of order.orderItemList as OrderItem[]) {
          store.addStock(
            stockKey(order, item, 'quantityOnHand'),
            isPurchase(order) ? item.quantity : -item.quantity,
          );
        }
        shipments(order, store, isPurchase(order) ? 'SHIPMENT_RECEIVED' : 'SHIPMENT_SHIPPED');
        order.statusId = 'ORDER_COMPLETED';
      },
    },
    cancel: {
      field: 'actionUrlCancel',
      available: (o) => o.statusId === 'ORDER_CREATED' || o.statusId === 'ORDER_LOCKED',
      run(order, store) {
        store.clearOrderStock(order.orderUrl as string);
        shipments(order, store, 'SHIPMENT_CANCELLED');
        order.statusId = 'ORDER_CANCELLED';
      },
    },
  },
};

/** Shipments are made by orders; the API reads them. */
export const shipmentType: ResourceType = {
  collection: 'shipment',
  idField: 'shipmentId',
  urlField: 'shipmentUrl',
  fields: [
    'shipmentId',
    'shipmentUrl',
    'shipmentTypeId',
    'statusId',
    'primaryOrderUrl',
    'createdDate',
    'lastUpdatedDate',
  ],
  scalars: new Set([
    'shipmentId',
    'shipmentTypeId',
    'statusId',
    'primaryOrderUrl',
    'createdDate',
    'lastUpdatedDate',
  ]),
};

function apply(order: Entity, input: Input, store: FinaleStore): void {
  const facilityField = isPurchase(order) ? 'destinationFacilityUrl' : 'originFacilityUrl';
  if (input[facilityField] !== undefined) {
    if (!store.byUrl('facility', input[facilityField])) refuse(`${facilityField} names no facility`);
    order[facilityField] = input[facilityField];
  }
  if (input.orderRoleList !== undefined) {
    const roles = input.orderRoleList;
    if (!Array.isArray(roles)) refuse('orderRoleList must be a list of { roleTypeId, partyId }');
    for (const role of roles as Input[]) {
      const party = typeof role?.partyId === 'string' ? store.get('partygroup', role.partyId) : undefined;
      if (!party) refuse('orderRoleList names a party that does not exist');
      if (!(party!.roleTypeIdList as string[]).includes(role.roleTypeId as string)) {
        refuse(`party ${role.partyId as string} does not have the role ${String(role.roleTypeId)}`);
      }
    }
    order.orderRoleList = (roles as Input[]).map((r) => ({ roleTypeId: r.roleTypeId, partyId: r.partyId }));
  }
  if (input.orderItemList !== undefined) {
    const items = input.orderItemList;
    if (!Array.isArray(items)) refuse('orderItemList must be a list');
    order.orderItemList = (items as Input[]).map((item, i) => {
      const product =
        store.byUrl('product', item?.productUrl) ??
        (typeof item?.productId === 'string' ? store.get('product', item.productId) : undefined);
      if (!product) refuse(`orderItemList[${i}] names no product`);
      if (typeof item.quantity !== 'number' || !(item.quantity > 0))
        refuse(`orderItemList[${i}].quantity must be a number > 0`);
      if (item.unitPrice !== undefined && typeof item.unitPrice !== 'number')
        refuse(`orderItemList[${i}].unitPrice must be a number`);
      return {
        orderItemUrl: `${order.orderUrl as string}/orderItem/${i + 1}`,
        productId: product!.productId,
        productUrl: product!.productUrl,
        unitPrice: (item.unitPrice as number | undefined) ?? 0,
        quantity: item.quantity,
        normalizedPackingString: (item.normalizedPackingString as string | undefined) ?? null,
      } as OrderItem;
    });
  }
  if (isPurchase(order) && (order.orderRoleList as Input[]).length > 0) {
    const supplier = (order.orderRoleList as Input[]).some((r) => r.roleTypeId === 'SUPPLIER');
    if (!supplier) refuse('a purchase order names its supplier in orderRoleList (roleTypeId SUPPLIER)');
  }
}

function stockKey(
  order: Entity,
  item: OrderItem,
  kind: 'quantityOnHand' | 'quantityOnOrder' | 'quantityReserved',
) {
  const facilityUrl = facilityOf(order);
  if (!facilityUrl)
    refuse(`the order needs ${isPurchase(order) ? 'destinationFacilityUrl' : 'originFacilityUrl'}`);
  return {
    facilityUrl,
    productUrl: item.productUrl,
    lotId: null,
    normalizedPackingString: item.normalizedPackingString,
    orderUrl: kind === 'quantityOnHand' ? null : (order.orderUrl as string),
    kind,
  };
}

function shipments(order: Entity, store: FinaleStore, statusId: string): void {
  for (const url of order.shipmentUrlList as string[]) {
    const shipment = store.byUrl('shipment', url);
    if (shipment) {
      shipment.statusId = statusId;
      store.touch(shipment);
    }
  }
}
