import { describe, expect, it } from 'vitest';

import { holds, pagesFor } from './app-nav.ts';

const keys = (roles: string[]) => pagesFor(roles).map((page) => page.key);

describe('app navigation', () => {
  it('offers an administrator the board and every operations page, and no audit', () => {
    expect(keys(['admin'])).toEqual(['board', 'interfaces', 'imports', 'quality', 'devices']);
  });

  it('offers a compliance officer the audit views only, never the board', () => {
    expect(keys(['compliance_officer'])).toEqual(['audit']);
  });

  it('offers a bed manager the board and the interfaces, but not the wall displays', () => {
    expect(keys(['bed_manager'])).toEqual(['board', 'interfaces', 'imports', 'quality']);
  });

  it('offers a ward nurse the board alone', () => {
    expect(keys(['charge_nurse'])).toEqual(['board']);
  });

  it('joins the pages of several roles', () => {
    expect(keys(['charge_nurse', 'compliance_officer'])).toEqual(['board', 'audit']);
  });

  it('offers nothing for a role it does not know, or no role', () => {
    expect(keys(['visitor'])).toEqual([]);
    expect(keys([])).toEqual([]);
    expect(holds(['visitor'], 'board.read')).toBe(false);
  });
});
