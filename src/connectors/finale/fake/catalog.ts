import type { FinaleStore } from './finale-store.js';
import { checkUpdatable, type Input, oneOf, type ResourceType, refuse, text } from './resource-type.js';

export const PARTY_ROLES = ['SUPPLIER', 'CUSTOMER', 'CARRIER'] as const;

/** Products: the id is the SKU the client chooses (`BP2905`, `Ocean 1`). */
export const productType: ResourceType = {
  collection: 'product',
  idField: 'productId',
  urlField: 'productUrl',
  fields: [
    'productId',
    'productUrl',
    'internalName',
    'statusId',
    'normalizedPackingString',
    'createdDate',
    'lastUpdatedDate',
  ],
  scalars: new Set(['productId', 'internalName', 'statusId', 'createdDate', 'lastUpdatedDate']),
  create(input, store) {
    const id = text(input, 'productId', true)!;
    if (store.get('product', id)) refuse(`product ${id} already exists`, 409);
    store.put('product', id, {
      productId: id,
      productUrl: store.url('product', id),
      internalName: text(input, 'internalName') ?? id,
      statusId: oneOf(input, 'statusId', ['PRODUCT_ACTIVE', 'PRODUCT_INACTIVE'], 'PRODUCT_ACTIVE'),
      normalizedPackingString: text(input, 'normalizedPackingString') ?? null,
    });
    return id;
  },
  update(entity, input, store) {
    checkUpdatable(productType, entity, input);
    if (input.internalName !== undefined) entity.internalName = text(input, 'internalName');
    if (input.statusId !== undefined)
      entity.statusId = oneOf(input, 'statusId', ['PRODUCT_ACTIVE', 'PRODUCT_INACTIVE']);
    store.touch(entity);
  },
};

/** Facilities (warehouses and their sublocations); ids are Finale's own. */
export const facilityType: ResourceType = {
  collection: 'facility',
  idField: 'facilityId',
  urlField: 'facilityUrl',
  fields: [
    'facilityId',
    'facilityUrl',
    'facilityName',
    'facilityTypeId',
    'parentFacilityUrl',
    'statusId',
    'createdDate',
    'lastUpdatedDate',
  ],
  scalars: new Set([
    'facilityId',
    'facilityName',
    'facilityTypeId',
    'parentFacilityUrl',
    'statusId',
    'createdDate',
    'lastUpdatedDate',
  ]),
  create(input, store) {
    const parent = input.parentFacilityUrl ?? null;
    if (parent !== null && !store.byUrl('facility', parent)) refuse('parentFacilityUrl names no facility');
    const id = store.nextId();
    store.put('facility', id, {
      facilityId: id,
      facilityUrl: store.url('facility', id),
      facilityName: text(input, 'facilityName', true),
      facilityTypeId: oneOf(input, 'facilityTypeId', ['WAREHOUSE', 'LOCATION', 'STORE'], 'WAREHOUSE'),
      parentFacilityUrl: parent,
      statusId: 'FACILITY_ACTIVE',
    });
    return id;
  },
  update(entity, input, store) {
    checkUpdatable(facilityType, entity, input);
    if (input.facilityName !== undefined) entity.facilityName = text(input, 'facilityName');
    store.touch(entity);
  },
};

/**
 * Party groups: suppliers, customers and carriers told apart by `roleTypeIdList`; the account's own
 * company is `PRIMARY`. The role list is not a scalar, so it does not filter: select vendors after listing.
 */
export const partyGroupType: ResourceType = {
  collection: 'partygroup',
  idField: 'partyId',
  urlField: 'partyUrl',
  fields: [
    'partyId',
    'partyUrl',
    'groupName',
    'roleTypeIdList',
    'statusId',
    'contactMechList',
    'createdDate',
    'lastUpdatedDate',
  ],
  scalars: new Set(['partyId', 'groupName', 'statusId', 'createdDate', 'lastUpdatedDate']),
  create(input, store) {
    const id = store.nextId();
    store.put('partygroup', id, {
      partyId: id,
      partyUrl: store.url('partygroup', id),
      groupName: text(input, 'groupName', true),
      roleTypeIdList: roles(input),
      statusId: oneOf(input, 'statusId', ['PARTY_ENABLED', 'PARTY_DISABLED'], 'PARTY_ENABLED'),
      contactMechList: contacts(input),
    });
    return id;
  },
  update(entity, input, store) {
    checkUpdatable(partyGroupType, entity, input);
    if (entity.partyId === 'PRIMARY' && input.roleTypeIdList !== undefined)
      refuse('the PRIMARY party keeps its roles');
    if (input.groupName !== undefined) entity.groupName = text(input, 'groupName');
    if (input.roleTypeIdList !== undefined) entity.roleTypeIdList = roles(input);
    if (input.statusId !== undefined)
      entity.statusId = oneOf(input, 'statusId', ['PARTY_ENABLED', 'PARTY_DISABLED']);
    if (input.contactMechList !== undefined) entity.contactMechList = contacts(input);
    store.touch(entity);
  },
};

function roles(input: Input): string[] {
  const list = input.roleTypeIdList ?? [];
  if (!Array.isArray(list) || list.some((r) => !PARTY_ROLES.includes(r))) {
    refuse(`roleTypeIdList must list roles among ${PARTY_ROLES.join(', ')}`);
  }
  return [...new Set(list as string[])];
}

function contacts(input: Input): Input[] {
  const list = input.contactMechList ?? [];
  if (!Array.isArray(list) || list.some((c) => typeof c !== 'object' || c === null)) {
    refuse('contactMechList must be a list of objects');
  }
  return list as Input[];
}

/** What every account starts with: its own company. */
export function seedPrimary(store: FinaleStore): void {
  store.put('partygroup', 'PRIMARY', {
    partyId: 'PRIMARY',
    partyUrl: store.url('partygroup', 'PRIMARY'),
    groupName: 'Fake Company',
    roleTypeIdList: [],
    statusId: 'PARTY_ENABLED',
    contactMechList: [],
  });
}
