import { TRPCClientError } from '@trpc/client';
import type { DeviceView } from '@medaxis/api';

import { refusalOf, refusalText, type OpsClient, type Refusal } from './ops-api.ts';

/** How long a display's token may last, as the issue form offers it (the API allows 1–730). */
export const lifetimes = [
  { days: 7, label: '1 week' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 180, label: '6 months' },
  { days: 365, label: '1 year' },
  { days: 730, label: '2 years' },
] as const;

export const defaultLifetimeDays = 365;
export const maxLabelLength = 100;

export interface DisplayRequest {
  label: string;
  /** A department code, or null for the whole hospital's board. */
  board: string | null;
  expiresInDays: number;
}

/** A display just issued: its setup link and QR code exist in this page only, this once. */
export interface IssuedDisplay {
  device: DeviceView;
  setupUrl: string;
  qrSvg: string;
}

export interface BoardChoice {
  code: string;
  name: string;
}

export const statusLabels = {
  active: 'Active',
  expired: 'Expired',
  revoked: 'Revoked',
} as const satisfies Record<DeviceView['status'], string>;

/** What an issue or revoke refused says to the admin, from the API's typed error. */
export function problemText(error: unknown, action: 'issue' | 'revoke'): string {
  const refusal = refusalOf(error);
  if (refusal === 'forbidden') {
    return action === 'issue'
      ? 'Your role may not issue displays.'
      : 'Your role may not revoke displays.';
  }
  if (refusal === 'not_found') return 'This display is no longer known to MedAxis.';
  if (refusal !== 'failed' || !(error instanceof TRPCClientError)) return refusalText(refusal);

  const data: unknown = error.data;
  const code = typeof data === 'object' && data !== null && 'code' in data ? data.code : null;
  if (code !== 'BAD_REQUEST') return refusalText(refusal);
  const medaxis =
    typeof data === 'object' && data !== null && 'medaxis' in data ? data.medaxis : null;
  const reason =
    typeof medaxis === 'object' && medaxis !== null && 'reason' in medaxis ? medaxis.reason : null;
  switch (reason) {
    case 'unknown_department':
      return 'That department is not on this site (any more). Reload the page and choose again.';
    case 'invalid_label':
      return `A label has 1–${maxLabelLength} characters.`;
    case 'invalid_expiry':
      return 'A display token lasts from 1 day to 2 years.';
    default:
      // Input the API's schema refused (zod): the form checks the same rules first.
      return `Check the label (1–${maxLabelLength} characters), board and lifetime.`;
  }
}

/** Checks a request as the API will, so the admin hears of a mistake before sending it. */
export function checkRequest(request: DisplayRequest): string | null {
  const label = request.label.trim();
  if (label.length === 0) return 'Give the display a label, e.g. where the screen hangs.';
  if (label.length > maxLabelLength) return `A label has at most ${maxLabelLength} characters.`;
  if (!lifetimes.some((lifetime) => lifetime.days === request.expiresInDays)) {
    return 'Choose how long the display may show its board.';
  }
  return null;
}

/**
 * The wall-display page: the displays issued, a form to issue one and the revoking of one.
 * A revoke is asked for, then confirmed, before it goes to the server.
 */
export class DevicesState {
  devices = $state.raw<readonly DeviceView[]>([]);
  boards = $state.raw<readonly BoardChoice[]>([]);
  loaded = $state.raw(false);
  refused = $state.raw<Refusal | null>(null);
  issued = $state.raw<IssuedDisplay | null>(null);
  /** Why the last issue did not happen, for the form. */
  problem = $state.raw<string | null>(null);
  /** The outcome of the last revoke, for the list. */
  notice = $state.raw<{ kind: 'ok' | 'problem'; text: string } | null>(null);
  busy = $state.raw(false);
  /** The display whose revoke awaits confirmation. */
  confirming = $state.raw<string | null>(null);

  constructor(private readonly client: OpsClient) {}

  async load() {
    try {
      const [devices, departments] = await Promise.all([
        this.client.devices.list.query(),
        this.client.catalog.departments.query(),
      ]);
      this.devices = devices;
      this.boards = departments.map(({ code, name }) => ({ code, name }));
      this.refused = null;
    } catch (error) {
      this.refused = refusalOf(error);
    } finally {
      this.loaded = true;
    }
  }

  /** Issues a display's token; its setup link and QR code are kept until `dismiss`. */
  async issue(request: DisplayRequest, origin: string): Promise<boolean> {
    const invalid = checkRequest(request);
    if (invalid !== null) {
      this.problem = invalid;
      return false;
    }

    this.busy = true;
    this.problem = null;
    this.issued = null;
    try {
      const result = await this.client.devices.issue.mutate({
        label: request.label.trim(),
        board: request.board,
        expiresInDays: request.expiresInDays,
        origin,
      });
      this.issued = { device: result.device, setupUrl: result.setupUrl, qrSvg: result.qrSvg };
      this.devices = [result.device, ...this.devices.filter((d) => d.id !== result.device.id)];
      return true;
    } catch (error) {
      this.problem = problemText(error, 'issue');
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Forgets the setup link and QR code: MedAxis cannot show them again. */
  dismiss() {
    this.issued = null;
  }

  askRevoke(id: string) {
    this.confirming = id;
    this.notice = null;
  }

  cancelRevoke() {
    this.confirming = null;
  }

  async revoke(id: string) {
    if (this.confirming !== id) return;
    this.busy = true;
    try {
      const device = await this.client.devices.revoke.mutate({ id });
      this.devices = this.devices.map((d) => (d.id === device.id ? device : d));
      if (this.issued?.device.id === id) this.issued = null;
      this.notice = { kind: 'ok', text: `${device.label} is revoked: its screen loses the board.` };
    } catch (error) {
      this.notice = { kind: 'problem', text: problemText(error, 'revoke') };
    } finally {
      this.confirming = null;
      this.busy = false;
    }
  }
}
