import type { Hl7MessageSummary } from '@medaxis/api';

import { refusalOf, refusalText, type OpsClient, type Refusal } from './ops-api.ts';

export const outcomes = ['rejected', 'errored', 'unsupported', 'all'] as const;
export type Outcome = (typeof outcomes)[number];

export const outcomeLabels: Record<Outcome, string> = {
  rejected: 'Rejected',
  errored: 'Errored',
  unsupported: 'Unsupported',
  all: 'All',
};

export interface OpenMessage {
  message: Hl7MessageSummary;
  raw: string;
  identity: 'shown' | 'masked';
}

/** Messages per page; older ones load on demand. */
export const pageSize = 100;

/** Statuses a message can be processed again from (applied and duplicates have nothing left). */
const reprocessable = new Set(['rejected', 'unsupported', 'received']);

export function canReprocess(message: Hl7MessageSummary): boolean {
  return reprocessable.has(message.status);
}

/**
 * The dead-letter view: stored HL7 messages by outcome, one opened with its raw text, and
 * reprocessing. A refusal of the page itself (not signed in, not allowed) is kept apart from
 * a failed action, so the page can say which.
 */
export class DeadLetterState {
  outcome = $state.raw<Outcome>('rejected');
  counts = $state.raw<Record<Outcome, number> | null>(null);
  messages = $state.raw<readonly Hl7MessageSummary[]>([]);
  loading = $state.raw(false);
  /** A full page came back: there may be older messages. */
  hasOlder = $state.raw(false);
  /** The page could not be loaded at all. */
  refused = $state.raw<Refusal | null>(null);
  open = $state.raw<OpenMessage | null>(null);
  busy = $state.raw(false);
  /** What the last reprocess did, or why an action failed, in words. */
  notice = $state.raw<{ kind: 'ok' | 'problem'; text: string } | null>(null);

  constructor(private readonly client: OpsClient) {}

  async load(outcome: Outcome = this.outcome) {
    this.outcome = outcome;
    this.loading = true;
    try {
      const result = await this.client.hl7.messages.query({ outcome, limit: pageSize });
      this.counts = result.outcomes;
      this.messages = result.messages;
      this.hasOlder = result.messages.length === pageSize;
      this.refused = null;
    } catch (error) {
      this.refused = refusalOf(error);
    } finally {
      this.loading = false;
    }
  }

  /** The next page of older messages under the same outcome. */
  async older() {
    const last = this.messages.at(-1);
    if (!last || this.loading) return;
    this.loading = true;
    try {
      const result = await this.client.hl7.messages.query({
        outcome: this.outcome,
        beforeId: last.id,
        limit: pageSize,
      });
      this.counts = result.outcomes;
      this.messages = [...this.messages, ...result.messages];
      this.hasOlder = result.messages.length === pageSize;
    } catch (error) {
      this.notice = { kind: 'problem', text: refusalText(refusalOf(error)) };
    } finally {
      this.loading = false;
    }
  }

  async show(id: string) {
    this.notice = null;
    try {
      this.open = await this.client.hl7.message.query({ id });
    } catch (error) {
      this.open = null;
      this.notice = { kind: 'problem', text: refusalText(refusalOf(error)) };
    }
  }

  close() {
    this.open = null;
    this.notice = null;
  }

  /** Processes the open message again, then refreshes it and the list. */
  async reprocess() {
    const current = this.open;
    if (!current || this.busy) return;
    this.busy = true;
    this.notice = null;
    try {
      const [result] = await this.client.hl7.reprocess.mutate({ id: current.message.id });
      const status = result?.status ?? 'not applied';
      const reason = result?.errorReason ?? 'no reason given';
      // The notice shows once the list and the open message say the same: it never stands
      // beside the message's old outcome.
      await Promise.all([this.load(), this.refreshOpen(current.message.id)]);
      this.notice =
        result?.status === 'applied'
          ? { kind: 'ok', text: `Applied (${result.ackCode ?? 'AA'}).` }
          : { kind: 'problem', text: `Still ${status}: ${reason}.` };
    } catch (error) {
      const refusal = refusalOf(error);
      this.notice = {
        kind: 'problem',
        text:
          refusal === 'forbidden'
            ? 'Your role may look at messages, not reprocess them.'
            : refusalText(refusal),
      };
    } finally {
      this.busy = false;
    }
  }

  private async refreshOpen(id: string) {
    try {
      this.open = await this.client.hl7.message.query({ id });
    } catch {
      // The notice already says what the reprocess did; the panel keeps the last text.
    }
  }
}
