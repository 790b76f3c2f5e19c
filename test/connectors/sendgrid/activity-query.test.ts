import { describe, expect, it } from 'vitest';
import {
  type ActivityRow,
  parseActivityQuery,
} from '../../../src/connectors/sendgrid/fake/activity-query.js';

const row: ActivityRow = {
  msg_id: 'abc123.filterdrecv-1.0',
  from_email: 'app@example.com',
  to_email: 'ada@example.com',
  subject: 'Your order',
  status: 'delivered',
  template_id: '',
  categories: ['receipts', 'orders'],
  unique_args: { patchbay_send_id: 'k-1' },
};

describe('Email Activity query language (fake)', () => {
  it.each([
    ['to_email="ada@example.com"', true],
    ['to_email!="ada@example.com"', false],
    [`msg_id LIKE 'abc123%'`, true],
    [`msg_id NOT LIKE 'abc123%'`, false],
    [`unique_args['patchbay_send_id']="k-1"`, true],
    [`unique_args['patchbay_send_id']="k-2"`, false],
    [`unique_args['missing']="k-1"`, false],
    ['categories IN ("orders","x")', true],
    ['(status="bounced" OR status="delivered") AND from_email="app@example.com"', true],
    ['status="bounced" OR status="delivered" AND subject="nope"', false],
  ])('%s → %s', (query, expected) => {
    expect(parseActivityQuery(query)(row)).toBe(expected);
  });

  it.each(['', 'to_email', 'to_email = ', 'nope="x"', '(status="a"', 'status="a" garbage', 'status LIKE x'])(
    'refuses %j with a reason',
    (query) => {
      expect(() => parseActivityQuery(query)).toThrow(SyntaxError);
    },
  );
});
