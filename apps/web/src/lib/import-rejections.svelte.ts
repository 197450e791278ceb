import type { ImportRejectionSummary } from '@medaxis/api';

import { refusalOf, refusalText, type OpsClient, type Refusal } from './ops-api.ts';

export const kindTabs = ['all', 'fhir', 'synthea', 'locations', 'mimic'] as const;
export type KindTab = (typeof kindTabs)[number];

export const kindLabels: Record<KindTab, string> = {
  all: 'All',
  fhir: 'FHIR',
  synthea: 'Synthea',
  locations: 'Locations',
  mimic: 'MIMIC',
};

type Client = OpsClient;
export type OpenRejection = Awaited<ReturnType<Client['imports']['rejection']['query']>>;

/** Rejections per page; older ones load on demand. */
export const pageSize = 100;

/**
 * Reads the edit box: empty means "apply the stored row"; anything else must be a JSON object.
 * Returns the row, or the sentence that says what is wrong with it.
 */
export function parseEditedRow(
  text: string,
): { row: Record<string, unknown> | undefined } | { problem: string } {
  if (text.trim() === '') return { row: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { problem: `The edited row is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { problem: 'The edited row must be a JSON object.' };
  }
  return { row: parsed as Record<string, unknown> };
}

/**
 * The import rejections view: the rows imports kept with their reason, by kind, one opened,
 * and reprocessing (as stored or with an edited row). A refusal of the page itself is kept
 * apart from a failed action, so the page can say which.
 */
export class ImportRejectionsState {
  kind = $state.raw<KindTab>('all');
  counts = $state.raw<Record<string, number> | null>(null);
  rejections = $state.raw<readonly ImportRejectionSummary[]>([]);
  loading = $state.raw(false);
  hasOlder = $state.raw(false);
  refused = $state.raw<Refusal | null>(null);
  open = $state.raw<OpenRejection | null>(null);
  /** The edit box of the open rejection: its row as JSON where it may be shown, else empty. */
  edit = $state('');
  busy = $state.raw(false);
  notice = $state.raw<{ kind: 'ok' | 'problem'; text: string } | null>(null);

  constructor(private readonly client: Client) {}

  get total(): number | null {
    return this.counts ? Object.values(this.counts).reduce((sum, n) => sum + n, 0) : null;
  }

  async load(kind: KindTab = this.kind) {
    this.kind = kind;
    this.loading = true;
    try {
      const result = await this.client.imports.rejections.query({
        ...(kind === 'all' ? {} : { kind }),
        limit: pageSize,
      });
      this.counts = result.counts;
      this.rejections = result.rejections;
      this.hasOlder = result.rejections.length === pageSize;
      this.refused = null;
    } catch (error) {
      this.refused = refusalOf(error);
    } finally {
      this.loading = false;
    }
  }

  async older() {
    const last = this.rejections.at(-1);
    if (!last || this.loading) return;
    this.loading = true;
    try {
      const result = await this.client.imports.rejections.query({
        ...(this.kind === 'all' ? {} : { kind: this.kind }),
        beforeId: last.id,
        limit: pageSize,
      });
      this.counts = result.counts;
      this.rejections = [...this.rejections, ...result.rejections];
      this.hasOlder = result.rejections.length === pageSize;
    } catch (error) {
      this.notice = { kind: 'problem', text: refusalText(refusalOf(error)) };
    } finally {
      this.loading = false;
    }
  }

  async show(id: string, options: { keepNotice?: boolean } = {}) {
    if (!options.keepNotice) this.notice = null;
    try {
      const open = await this.client.imports.rejection.query({ id });
      this.open = open;
      this.edit = open.rowShown ? JSON.stringify(open.row, null, 2) : '';
    } catch (error) {
      this.open = null;
      this.notice = { kind: 'problem', text: refusalText(refusalOf(error)) };
    }
  }

  close() {
    this.open = null;
    this.edit = '';
    this.notice = null;
  }

  /**
   * Reprocesses the open rejection: with the edit box's row when it differs from the stored
   * one, else as stored. Rejected again, the new rejection is opened with its new reason.
   */
  async reprocess() {
    const current = this.open;
    if (!current || this.busy) return;
    const edited = parseEditedRow(this.edit);
    if ('problem' in edited) {
      this.notice = { kind: 'problem', text: edited.problem };
      return;
    }
    const unchanged =
      edited.row !== undefined &&
      current.rowShown &&
      JSON.stringify(edited.row) === JSON.stringify(current.row);
    this.busy = true;
    this.notice = null;
    try {
      const outcome = await this.client.imports.reprocess.mutate({
        id: current.id,
        ...(edited.row !== undefined && !unchanged ? { row: edited.row } : {}),
      });
      await this.load();
      if (outcome.status === 'applied') {
        await this.show(current.id, { keepNotice: true });
        this.notice = {
          kind: 'ok',
          text: `Applied${outcome.edited ? ' with the edited row' : ''}: rejection ${current.id} is reprocessed.`,
        };
      } else {
        if (outcome.retryId) await this.show(outcome.retryId, { keepNotice: true });
        this.notice = {
          kind: 'problem',
          text:
            `Rejected again: ${outcome.code ?? '?'}: ${outcome.reason ?? 'no reason given'}` +
            (outcome.retryId ? ` (kept as rejection ${outcome.retryId}).` : '.'),
        };
      }
    } catch (error) {
      const refusal = refusalOf(error);
      const message = error instanceof Error ? error.message : '';
      this.notice = {
        kind: 'problem',
        text:
          refusal === 'forbidden'
            ? 'Your role may look at rejections, not reprocess them.'
            : refusal === 'conflict' || refusal === 'failed'
              ? message || refusalText(refusal)
              : refusalText(refusal),
      };
    } finally {
      this.busy = false;
    }
  }
}
