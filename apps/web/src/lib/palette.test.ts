import { describe, expect, it } from 'vitest';

import { bedStatusList } from './bed-status.ts';
import {
  boardingColours,
  connectionColours,
  contrastRatio,
  isolationColours,
  okabeIto,
  surface,
  tileColours,
} from './palette.ts';

describe('contrast ratio', () => {
  it('matches the WCAG reference values', () => {
    expect(contrastRatio('#FFFFFF', '#000000')).toBeCloseTo(21, 5);
    expect(contrastRatio('#777777', '#FFFFFF')).toBeCloseTo(4.48, 2);
  });
});

describe('tile colours', () => {
  it.each(bedStatusList)('gives %s text at least WCAG AA contrast (4.5:1)', (status) => {
    const { fill, ink } = tileColours[status];
    expect(contrastRatio(fill, ink)).toBeGreaterThanOrEqual(4.5);
  });

  it('gives boarding and isolation marks AA contrast too', () => {
    expect(contrastRatio(boardingColours.fill, boardingColours.ink)).toBeGreaterThanOrEqual(4.5);
    expect(contrastRatio(isolationColours.fill, isolationColours.ink)).toBeGreaterThanOrEqual(4.5);
  });

  it.each(bedStatusList)(
    'sets the %s tile edge apart from the card (3:1 for UI parts)',
    (status) => {
      expect(contrastRatio(tileColours[status].edge, surface.card)).toBeGreaterThanOrEqual(3);
    },
  );

  it('gives each state its own colour', () => {
    const colours = bedStatusList.map((s) => `${tileColours[s].fill}/${tileColours[s].edge}`);
    expect(new Set(colours).size).toBe(bedStatusList.length);
  });

  it('draws the state colours from the Okabe–Ito palette', () => {
    const palette = new Set<string>(Object.values(okabeIto));
    for (const status of bedStatusList) expect(palette).toContain(tileColours[status].edge);
  });
});

describe('page text', () => {
  it('is readable on the page and on cards', () => {
    for (const background of [surface.page, surface.card]) {
      expect(contrastRatio(surface.text, background)).toBeGreaterThanOrEqual(7);
      expect(contrastRatio(surface.muted, background)).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('sets the connection dot apart from the page', () => {
    for (const colour of Object.values(connectionColours)) {
      expect(contrastRatio(colour, surface.page)).toBeGreaterThanOrEqual(3);
    }
  });
});
