import {
  findDeviceToken,
  insertDeviceToken,
  listDepartments,
  revokeDeviceToken,
  touchDeviceToken,
  type DeviceTokenRow,
  type Queryable,
} from '@medaxis/db';
import { ErrorCode, MedaxisError } from '@medaxis/domain';
import QRCode from 'qrcode';

import { generateToken, isWellFormedToken, tokenId } from './tokens.ts';

export const deviceTokenRules = {
  /** A wall display is set up once and runs for months: a year unless the admin says less. */
  defaultDays: 365,
  maxDays: 730,
  maxLabelLength: 100,
  /** Last use is recorded at most this often. */
  touchIntervalMs: 60_000,
} as const;

export interface DeviceTokenRequest {
  /** Where the screen hangs, e.g. "ICU nurses' station". */
  label: string;
  /** A department code, or null for the whole hospital's board. */
  board: string | null;
  /** The admin issuing it; null when MedAxis itself does (`npm start`). */
  issuedBy: string | null;
  expiresInDays?: number | undefined;
}

export interface IssuedDeviceToken {
  /** The secret, shown once (in the setup URL and QR code); stored only as its hash. */
  token: string;
  device: DeviceTokenRow;
}

/**
 * Issues a token for one wall display: it reads one board (`board`, or the whole hospital) and
 * nothing else, until it expires or is revoked. The board must exist.
 */
export async function issueDeviceToken(
  db: Queryable,
  request: DeviceTokenRequest,
  now: Date,
): Promise<IssuedDeviceToken> {
  const label = request.label.trim();
  if (label.length === 0 || label.length > deviceTokenRules.maxLabelLength) {
    throw new MedaxisError(
      ErrorCode.validation,
      'invalid_label',
      `A device label has 1–${deviceTokenRules.maxLabelLength} characters.`,
    );
  }
  const days = request.expiresInDays ?? deviceTokenRules.defaultDays;
  if (!Number.isInteger(days) || days < 1 || days > deviceTokenRules.maxDays) {
    throw new MedaxisError(
      ErrorCode.validation,
      'invalid_expiry',
      `A device token lasts 1–${deviceTokenRules.maxDays} days.`,
    );
  }
  if (request.board !== null) {
    const departments = await listDepartments(db);
    if (!departments.some((d) => d.code === request.board)) {
      throw new MedaxisError(
        ErrorCode.validation,
        'unknown_department',
        `No department ${request.board} on this site.`,
      );
    }
  }

  const token = generateToken();
  const device = await insertDeviceToken(db, {
    id: tokenId(token),
    label,
    board: request.board,
    issuedBy: request.issuedBy,
    issuedAt: now,
    expiresAt: new Date(now.getTime() + days * 86_400_000),
  });
  return { token, device };
}

/** Why a device token opened nothing; told to the server log and the audit, not the client. */
export type DeviceRefusal = 'malformed' | 'unknown' | 'expired' | 'revoked';

export type DeviceValidation =
  | { ok: true; device: DeviceTokenRow }
  | { ok: false; reason: DeviceRefusal; device?: DeviceTokenRow };

export async function validateDeviceToken(
  db: Queryable,
  token: unknown,
  now: Date,
): Promise<DeviceValidation> {
  if (!isWellFormedToken(token)) return { ok: false, reason: 'malformed' };
  const device = await findDeviceToken(db, tokenId(token));
  if (!device) return { ok: false, reason: 'unknown' };
  if (device.revokedAt !== null) return { ok: false, reason: 'revoked', device };
  if (now.getTime() >= device.expiresAt.getTime()) return { ok: false, reason: 'expired', device };

  const lastSeen = device.lastSeenAt?.getTime() ?? 0;
  if (now.getTime() - lastSeen >= deviceTokenRules.touchIntervalMs) {
    await touchDeviceToken(db, device.id, now);
    return { ok: true, device: { ...device, lastSeenAt: now } };
  }
  return { ok: true, device };
}

/** Revokes a device token by id; its display loses the board at the server's next check. */
export async function revokeDevice(db: Queryable, id: string, now: Date): Promise<DeviceTokenRow> {
  const device = /^[0-9a-f]{64}$/.test(id) ? await revokeDeviceToken(db, id, now) : undefined;
  if (!device) {
    throw new MedaxisError(ErrorCode.notFound, 'unknown_device', 'No such device token.');
  }
  return device;
}

/** The page that stores the token on the display and opens its board. */
export function deviceSetupUrl(origin: string, token: string): string {
  return new URL(`/device/${token}`, origin).toString();
}

/** The setup URL as a QR code (SVG), to scan with the display's camera or a phone. */
export function deviceSetupQrSvg(url: string): Promise<string> {
  return QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
