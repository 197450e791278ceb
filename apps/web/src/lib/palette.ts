import type { BedStatus } from './bed-status.ts';

/**
 * Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008): the eight colours stay
 * distinct under protanopia, deuteranopia and tritanopia.
 */
export const okabeIto = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

/** The board's own surfaces: near-black, so the state colours carry the meaning. */
export const surface = {
  page: '#0B0E12',
  card: '#151A21',
  /** A room's panel inside a card: just enough to group its beds. */
  room: '#1E252F',
  line: '#2C3440',
  text: '#F2F4F7',
  muted: '#A9B3C1',
} as const;

export interface TileColours {
  /** Tile background. */
  fill: string;
  /** Text and icon on the fill. */
  ink: string;
  /** Edge of the tile: what separates it from the card. */
  edge: string;
}

/**
 * Occupied is the common, unremarkable state, so it is a dark blue tile with a blue edge; the
 * states a bed manager acts on (free, to clean, cleaning, blocked, reserved) are full fills that
 * stand out from across the room.
 */
export const tileColours: Record<BedStatus, TileColours> = {
  occupied: { fill: '#12314A', ink: surface.text, edge: okabeIto.blue },
  free: { fill: okabeIto.bluishGreen, ink: okabeIto.black, edge: okabeIto.bluishGreen },
  housekeeping: { fill: okabeIto.yellow, ink: okabeIto.black, edge: okabeIto.yellow },
  cleaning: { fill: okabeIto.skyBlue, ink: okabeIto.black, edge: okabeIto.skyBlue },
  blocked: { fill: okabeIto.vermillion, ink: okabeIto.black, edge: okabeIto.vermillion },
  reserved: { fill: okabeIto.reddishPurple, ink: okabeIto.black, edge: okabeIto.reddishPurple },
};

/** Boarding ED patients: occupied, but the wait is the point, so the edge turns orange. */
export const boardingColours: TileColours = {
  fill: '#12314A',
  ink: surface.text,
  edge: okabeIto.orange,
};

/** Isolation badge: orange with black text, outlined so it stays visible on any tile. */
export const isolationColours = { fill: okabeIto.orange, ink: okabeIto.black } as const;

/** Connection dot colours. */
export const connectionColours = {
  live: okabeIto.bluishGreen,
  stale: okabeIto.orange,
  offline: okabeIto.vermillion,
} as const;

function channel(value: number): number {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** WCAG 2 relative luminance of a #RRGGBB colour. */
export function relativeLuminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  return (
    0.2126 * channel((n >> 16) & 0xff) +
    0.7152 * channel((n >> 8) & 0xff) +
    0.0722 * channel(n & 0xff)
  );
}

/** WCAG 2 contrast ratio, 1–21. AA asks 4.5 for text, 3 for large text and UI edges. */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (light! + 0.05) / (dark! + 0.05);
}
