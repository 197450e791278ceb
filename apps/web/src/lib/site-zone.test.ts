import { describe, expect, it } from 'vitest';

import { displayZone, knownSiteTimeZone, rememberSiteTimeZone } from './site-zone.ts';
import { browserTimeZone } from './time.ts';

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
  };
}

describe('the zone the working pages show times in', () => {
  it("is the site's zone once a board has given it", () => {
    const storage = memoryStorage();
    rememberSiteTimeZone('America/New_York', storage);

    expect(displayZone(storage)).toEqual({ timeZone: 'America/New_York', ofSite: true });
  });

  it("is the browser's zone, marked as not the site's, before any board", () => {
    expect(displayZone(memoryStorage())).toEqual({ timeZone: browserTimeZone(), ofSite: false });
  });

  it('follows the site when its zone changes', () => {
    const storage = memoryStorage();
    rememberSiteTimeZone('America/New_York', storage);
    rememberSiteTimeZone('Europe/Paris', storage);

    expect(knownSiteTimeZone(storage)).toBe('Europe/Paris');
  });

  it('ignores what is no time zone, kept or given', () => {
    const storage = memoryStorage();
    rememberSiteTimeZone('Not/AZone', storage);
    expect(knownSiteTimeZone(storage)).toBeNull();

    storage.setItem('medaxis.siteTimeZone', 'Mars/Olympus');
    expect(knownSiteTimeZone(storage)).toBeNull();
  });

  it('works without storage, or with storage that refuses', () => {
    const refusing = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('denied');
      },
    };
    expect(() => rememberSiteTimeZone('UTC', refusing)).not.toThrow();
    expect(displayZone(refusing).ofSite).toBe(false);
    expect(displayZone(null).ofSite).toBe(false);
  });
});
