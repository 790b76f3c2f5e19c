import type { AssociationStore } from './association-store.js';
import type { CrmStore, StoredRecord } from './crm-store.js';
import { checkValues } from './property-values.js';

/** What `POST /_fake/seed` (and `--seed N`) makes. */
export interface HubSpotSeed {
  contacts?: number;
  companies?: number;
  deals?: number;
  tickets?: number;
  /** Associate each contact with a company and each deal with a contact and a company. Defaults to true. */
  associate?: boolean;
  /** Records of any type with given properties: `{ contacts: [{ email: "a@b.c" }] }`. */
  records?: Record<string, Record<string, unknown>[]>;
  /** How far apart the generated records were created and last changed, in ms. Defaults to 1 s. */
  spacingMs?: number;
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia', 'Tim'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Hamilton',
  'Thompson',
  'Perlman',
  'Lee',
];
const STAGES = [
  'appointmentscheduled',
  'qualifiedtobuy',
  'presentationscheduled',
  'contractsent',
  'closedwon',
];

/**
 * Generates records as if they had been made over time: the n-th of N was created and last changed
 * (N − n) × `spacingMs` ago, so windows on the last-modified date have something to split.
 */
export function seedCrm(store: CrmStore, associations: AssociationStore, seed: HubSpotSeed, now: number) {
  const spacing = seed.spacingMs ?? 1000;
  const made: Record<string, { count: number; firstId?: string; lastId?: string }> = {};
  const generate = (typeName: string, count: number, values: (i: number) => Record<string, string>) => {
    const state = store.type(typeName);
    const records: StoredRecord[] = [];
    for (let i = 0; i < count; i++)
      records.push(store.create(state, values(i), 'CRM_UI', now - (count - i) * spacing));
    made[typeName] = {
      count,
      ...(records[0] && { firstId: records[0].id, lastId: records[records.length - 1]!.id }),
    };
    return records;
  };
  const contacts = generate('contacts', seed.contacts ?? 0, (i) => ({
    email: `contact${i + 1}@example.com`,
    firstname: FIRST[i % FIRST.length]!,
    lastname: LAST[Math.floor(i / FIRST.length) % LAST.length]!,
  }));
  const companies = generate('companies', seed.companies ?? 0, (i) => ({
    name: `Company ${i + 1}`,
    domain: `company${i + 1}.example.com`,
  }));
  const deals = generate('deals', seed.deals ?? 0, (i) => ({
    dealname: `Deal ${i + 1}`,
    amount: String(1000 + ((i * 37) % 9000)),
    dealstage: STAGES[i % STAGES.length]!,
    pipeline: 'default',
  }));
  generate('tickets', seed.tickets ?? 0, (i) => ({
    subject: `Ticket ${i + 1}`,
    hs_pipeline: '0',
    hs_pipeline_stage: '1',
  }));

  if (seed.associate !== false) {
    const contact = store.type('contacts').type;
    const company = store.type('companies').type;
    const deal = store.type('deals').type;
    if (companies.length > 0) {
      const type = associations.defaultType(contact, company);
      contacts.forEach((c, i) => {
        associations.associate(contact, c.id, company, companies[i % companies.length]!.id, [type]);
      });
    }
    deals.forEach((d, i) => {
      if (contacts.length > 0)
        associations.associate(deal, d.id, contact, contacts[i % contacts.length]!.id, [
          associations.defaultType(deal, contact),
        ]);
      if (companies.length > 0)
        associations.associate(deal, d.id, company, companies[i % companies.length]!.id, [
          associations.defaultType(deal, company),
        ]);
    });
  }

  for (const [typeName, items] of Object.entries(seed.records ?? {})) {
    const state = store.type(typeName);
    const ids = items.map((item) => {
      const { values, problems } = checkValues(item, state.properties, store.portalId);
      if (problems.length > 0)
        throw new Error(`seed ${typeName}: ${problems.map((p) => p.message).join('; ')}`);
      return store.create(state, values, 'CRM_UI').id;
    });
    made[typeName] = {
      count: (made[typeName]?.count ?? 0) + ids.length,
      ...(ids[0] && { firstId: ids[0], lastId: ids[ids.length - 1] }),
    };
  }
  return made;
}
