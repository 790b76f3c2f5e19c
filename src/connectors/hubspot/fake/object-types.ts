/**
 * The CRM object types the fake knows: HubSpot's standard ones and custom objects made through the
 * schemas API. A type is named in a path by its plural name (`contacts`), its singular (`contact`), its
 * id (`0-1`) or, for a custom object, its fully qualified name (`p123_cars`) or id (`2-456`).
 */
export interface ObjectType {
  /** The path name HubSpot uses in v3 URLs: `contacts`, `companies`, `p123_cars`. */
  readonly name: string;
  readonly singular: string;
  readonly objectTypeId: string;
  /** What webhooks call it (`contact.creation`); custom objects are not subscribable here. */
  readonly webhookName?: string;
  /** Properties returned when a read names none. */
  readonly defaultProperties: readonly string[];
  /** Properties a `query` search looks in. */
  readonly searchable: readonly string[];
  /** The last-modified property this type maintains (`lastmodifieddate` on contacts). */
  readonly modifiedProperty: string;
  readonly createdProperty: string;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';
  fieldType: string;
  groupName: string;
  description: string;
  hasUniqueValue: boolean;
  /** HubSpot's own (read-only: `hs_object_id`, `createdate`) or a user's. */
  hubspotDefined: boolean;
  readOnlyValue: boolean;
  options: { label: string; value: string; displayOrder: number; hidden: boolean }[];
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

const standard = (
  name: string,
  singular: string,
  objectTypeId: string,
  defaults: string[],
  searchable: string[],
  modifiedProperty = 'hs_lastmodifieddate',
): ObjectType => ({
  name,
  singular,
  objectTypeId,
  webhookName: singular,
  defaultProperties: [...defaults, 'createdate', modifiedProperty, 'hs_object_id'].sort(),
  searchable,
  modifiedProperty,
  createdProperty: 'createdate',
});

// Default read properties per type, as v3 returns them without `properties=`.
export const STANDARD_TYPES: readonly ObjectType[] = [
  standard(
    'contacts',
    'contact',
    '0-1',
    ['email', 'firstname', 'lastname'],
    ['email', 'firstname', 'lastname', 'phone', 'company'],
    'lastmodifieddate',
  ),
  standard('companies', 'company', '0-2', ['domain', 'name'], ['name', 'domain', 'website', 'phone']),
  standard(
    'deals',
    'deal',
    '0-3',
    ['amount', 'closedate', 'dealname', 'dealstage', 'pipeline'],
    ['dealname'],
  ),
  standard(
    'tickets',
    'ticket',
    '0-5',
    ['content', 'hs_pipeline', 'hs_pipeline_stage', 'hs_ticket_category', 'hs_ticket_priority', 'subject'],
    ['subject', 'content'],
  ),
];

type Seed = [
  name: string,
  type: PropertyDefinition['type'],
  fieldType: string,
  extra?: Partial<PropertyDefinition>,
];

const COMMON: Seed[] = [
  ['hs_object_id', 'number', 'number', { readOnlyValue: true }],
  ['createdate', 'datetime', 'date', { readOnlyValue: true }],
  ['hs_lastmodifieddate', 'datetime', 'date', { readOnlyValue: true }],
  ['hubspot_owner_id', 'enumeration', 'select'],
];

const BY_TYPE: Record<string, Seed[]> = {
  contacts: [
    ['email', 'string', 'text', { hasUniqueValue: true }],
    ['firstname', 'string', 'text'],
    ['lastname', 'string', 'text'],
    ['phone', 'string', 'phonenumber'],
    ['company', 'string', 'text'],
    [
      'lifecyclestage',
      'enumeration',
      'radio',
      {
        options: options(
          'subscriber',
          'lead',
          'marketingqualifiedlead',
          'salesqualifiedlead',
          'opportunity',
          'customer',
          'evangelist',
          'other',
        ),
      },
    ],
    ['lastmodifieddate', 'datetime', 'date', { readOnlyValue: true }],
  ],
  companies: [
    ['name', 'string', 'text'],
    ['domain', 'string', 'text'],
    ['website', 'string', 'text'],
    ['phone', 'string', 'phonenumber'],
    ['industry', 'string', 'text'],
    ['numberofemployees', 'number', 'number'],
  ],
  deals: [
    ['dealname', 'string', 'text'],
    ['amount', 'number', 'number'],
    ['closedate', 'datetime', 'date'],
    [
      'dealstage',
      'enumeration',
      'radio',
      {
        options: options(
          'appointmentscheduled',
          'qualifiedtobuy',
          'presentationscheduled',
          'decisionmakerboughtin',
          'contractsent',
          'closedwon',
          'closedlost',
        ),
      },
    ],
    ['pipeline', 'enumeration', 'select', { options: options('default') }],
  ],
  tickets: [
    ['subject', 'string', 'text'],
    ['content', 'string', 'textarea'],
    ['hs_pipeline', 'enumeration', 'select', { options: options('0') }],
    ['hs_pipeline_stage', 'enumeration', 'radio', { options: options('1', '2', '3', '4') }],
    [
      'hs_ticket_category',
      'enumeration',
      'checkbox',
      { options: options('PRODUCT_ISSUE', 'BILLING_ISSUE', 'FEATURE_REQUEST', 'GENERAL_INQUIRY') },
    ],
    ['hs_ticket_priority', 'enumeration', 'select', { options: options('LOW', 'MEDIUM', 'HIGH', 'URGENT') }],
  ],
};

function options(...values: string[]): PropertyDefinition['options'] {
  return values.map((value, displayOrder) => ({ label: value, value, displayOrder, hidden: false }));
}

export function propertyDefinition(
  seed: { name: string; type: PropertyDefinition['type']; fieldType: string } & Partial<PropertyDefinition>,
  at: string,
): PropertyDefinition {
  return {
    label: seed.name,
    groupName: 'information',
    description: '',
    hasUniqueValue: false,
    hubspotDefined: false,
    readOnlyValue: false,
    options: [],
    createdAt: at,
    updatedAt: at,
    archived: false,
    ...seed,
  };
}

/** The properties a standard type starts with. */
export function standardProperties(type: ObjectType, at: string): PropertyDefinition[] {
  const seeds = [...COMMON, ...(BY_TYPE[type.name] ?? [])];
  return seeds.map(([name, t, fieldType, extra]) =>
    propertyDefinition({ name, type: t, fieldType, hubspotDefined: true, ...extra }, at),
  );
}
