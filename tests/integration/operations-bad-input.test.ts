import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { seedSmallHospital } from '../support/fixtures.ts';
import { startStack, type Stack } from '../support/stack.ts';

/*
 * The dead-letter view's and the data-quality page's procedures over HTTP, as a browser calls
 * them: malformed input is a 400 (never a 500), and it is judged after who sends it.
 */

let stack: Stack;
let admin: string;
let nurse: string;

beforeAll(async () => {
  stack = await startStack();
  await seedSmallHospital(stack.database.db);
  ({ cookie: admin } = await stack.connect({ role: 'admin' }).credentials);
  ({ cookie: nurse } = await stack.connect({ role: 'charge_nurse', departments: ['MED'] })
    .credentials);
});

afterAll(async () => {
  await stack?.stop();
});

async function get(path: string, input: string | undefined, cookie: string) {
  const query = input === undefined ? '' : `?input=${encodeURIComponent(input)}`;
  const response = await fetch(`${stack.baseUrl}/trpc/${path}${query}`, {
    headers: { cookie, 'x-purpose-of-use': 'operations' },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('operations procedures over HTTP', () => {
  const malformed: [string, string, string][] = [
    ['an unknown check', 'quality.items', '{"check":"everything"}'],
    ['a negative offset', 'quality.items', '{"check":"late_events","offset":-1}'],
    ['a huge limit', 'quality.items', '{"check":"late_events","limit":1e9}'],
    ['an unknown field', 'quality.summary', '{"since":"yesterday"}'],
    ['a message id that is no number', 'hl7.message', '{"id":"1 OR 1=1"}'],
    ['a message id too long for bigint', 'hl7.message', `{"id":"${'9'.repeat(30)}"}`],
    ['an unknown outcome', 'hl7.messages', '{"outcome":"lost"}'],
    ['invalid JSON', 'quality.items', '{"check":'],
  ];

  it.each(malformed)('answers %s with 400', async (_name, path, input) => {
    const response = await get(path, input, admin);

    expect(response.status).toBe(400);
  });

  it('answers the summary with counts for an administrator', async () => {
    const response = await get('quality.summary', undefined, admin);

    expect(response.status).toBe(200);
    expect(JSON.stringify(response.body)).toContain('"unconfigured_locations":0');
  });

  it('refuses a role without the permission with 403, saying no more', async () => {
    for (const path of ['quality.summary', 'hl7.messages']) {
      const response = await get(path, undefined, nurse);
      expect(response.status).toBe(403);
      expect(JSON.stringify(response.body)).not.toContain('rejected_messages');
    }
  });

  it('refuses malformed input from a role without the permission with 403 first', async () => {
    const response = await get('quality.items', '{"check":"everything"}', nurse);

    expect(response.status).toBe(403);
  });
});
