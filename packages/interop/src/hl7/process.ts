import {
  appendEventsStatement,
  claimHl7MessageStatements,
  getSite,
  hl7OutcomesStatement,
  insertHl7Raw,
  isRetryableError,
  loadHl7Message,
  queryStatements,
  readHl7Claim,
  recordHl7Outcome,
  withTransaction,
  type Db,
  type EventInput,
  type Hl7Outcome,
  type Hl7OutcomeRow,
} from '@medaxis/db';
import { ErrorCode, isMedaxisError, MedaxisError } from '@medaxis/domain';

import { buildAck, buildBatchAck } from './ack.ts';
import { applyPlan, openingStatements } from './apply.ts';
import { payloadHash, splitFrame, type SplitFrame } from './batch.ts';
import type { Hl7Encoding } from './escape.ts';
import { Hl7ReadError, readMessage, type MessageHeader } from './message.ts';
import { planMessage, type AdtPlan } from './plan.ts';
import { decodeHl7Bytes } from './text.ts';

/** What became of one message, with what its ACK needs. */
export interface ProcessedMessage {
  id: string;
  outcome: Hl7Outcome;
  /** Whose data an applied message wrote. */
  patientIds?: string[];
  encounterIds?: string[];
  header?: MessageHeader | undefined;
  encoding?: Hl7Encoding | undefined;
  /** A fault of ours (not of the message), for the caller to log; answered AE. */
  internalError?: unknown;
}

/** A stored message, about to be processed. */
interface StoredMessage {
  id: string;
  raw: Buffer;
  hash: string;
}

/** A message read and planned: what is left is to apply it. */
interface PlannedMessage extends StoredMessage {
  now: Date;
  header: MessageHeader;
  encoding: Hl7Encoding;
  known: Omit<Hl7Outcome, 'status' | 'ackCode'>;
  plan: AdtPlan;
  eventType: string;
}

/** A processed message and its audit row's write (resolved once durable). */
interface Settled {
  processed: ProcessedMessage;
  audited: Promise<unknown>;
}

/** One received frame: its stored row(s) and the ACK to send back. */
export interface ReceivedFrame {
  ids: string[];
  messages: ProcessedMessage[];
  ack: string;
}

export interface Hl7ProcessorOptions {
  now?: () => Date;
  /** How long the hospital's time zone is cached (it rarely changes). */
  siteCacheMs?: number;
  /**
   * The audit trail (packages/audit's AuditWriter fits): every applied message and every
   * acknowledged retransmission is recorded, as the system with source hl7, before its ACK.
   */
  audit?: Hl7AuditSink | undefined;
  /** Messages applied in one transaction at most (default 32). */
  maxBatch?: number;
}

/** The part of the audit writer the feed uses; `record` resolves once the row is durable. */
export interface Hl7AuditSink {
  record(event: {
    source: 'hl7';
    operation: string;
    action: 'write';
    actor: { kind: 'system'; id: 'system'; roles: readonly string[] };
    purpose: 'operations';
    resourceType: 'hl7_message';
    resourceId: string;
    patientIds: readonly string[];
    encounterIds: readonly string[];
    outcome: 'allowed';
    reason: string | null;
    at: Date;
  }): Promise<unknown>;
}

/**
 * The HL7 v2 pipeline behind the MLLP listener, the CLI and the API: store raw first (its own
 * commit), then read, plan and apply messages in a transaction that also records their
 * outcomes, audit them, then answer. Any failure after the raw commit still ends in a stored
 * outcome and an ACK; only a failure to store raw leaves the message unanswered (so the sender
 * resends).
 *
 * Messages that arrived together are applied in one transaction (group commit: one commit,
 * one WAL flush, one notification for all of them), each under a savepoint, so one that the
 * hospital's state refuses is rolled back alone and the others still apply. Their events are
 * appended together just before COMMIT, so the event counter's lock, which orders event ids
 * across all writers, is held for that last round trip only and other connections' batches
 * run meanwhile. A batch that cannot commit as a whole (a deadlock with another connection's
 * batch, a lost connection) has committed nothing: its messages are then applied one by one,
 * as if they had arrived apart.
 */
export class Hl7Processor {
  private readonly now: () => Date;
  private site: { timeZone: string; until: number } | undefined;

  constructor(
    private readonly db: Db,
    private readonly options: Hl7ProcessorOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Stores frames (one commit for all of them), then processes them in order and returns one
   * result per frame; `onProcessed` gets each as soon as it is done (its outcome committed and
   * audited), in order. Throws if the frames could not be stored, or if one could not be
   * audited (those before it were passed on).
   */
  async receive(
    frames: readonly Buffer[],
    peer: string,
    onProcessed?: (result: ReceivedFrame) => void,
  ): Promise<ReceivedFrame[]> {
    const hashes = frames.map((raw) => payloadHash(raw));
    const ids = await insertHl7Raw(
      this.db,
      frames.map((raw, index) => ({ raw, peer, payloadHash: hashes[index]! })),
    );
    const results: ReceivedFrame[] = [];
    const pass = (result: ReceivedFrame) => {
      results.push(result);
      onProcessed?.(result);
    };

    // Frames of one message each are processed together; a batch frame (FHS/BHS) on its own,
    // in its place, so everything still applies in the order it arrived.
    let together: StoredMessage[] = [];
    const processTogether = async () => {
      for (const { processed, audited } of await this.processMessages(together)) {
        await audited;
        pass({ ids: [processed.id], messages: [processed], ack: this.ackFor(processed) });
      }
      together = [];
    };
    for (const [index, frame] of frames.entries()) {
      const split = splitFrame(frame);
      // A batch without a message is answered like any unreadable message (AR).
      if (!split.batch || split.messages.length === 0) {
        together.push({ id: ids[index]!, raw: frame, hash: hashes[index]! });
        continue;
      }
      await processTogether();
      pass(await this.processBatch(ids[index]!, split, peer));
    }
    await processTogether();
    return results;
  }

  /**
   * Processes a stored message again (the dead-letter view's button, `medaxis hl7 reprocess`).
   * Applied messages, duplicates and batch envelopes are refused: they have nothing left to do.
   */
  async reprocess(id: string): Promise<ProcessedMessage> {
    const row = await loadHl7Message(this.db, id);
    if (!row) throw new MedaxisError(ErrorCode.notFound, 'unknown_message', `No message ${id}.`);
    if (row.status === 'applied' || row.status === 'duplicate' || row.status === 'batch') {
      throw new MedaxisError(
        ErrorCode.conflict,
        `already_${row.status}`,
        `Message ${id} is ${row.status}: there is nothing to reprocess.`,
      );
    }
    const [settled] = await this.processMessages([{ id, raw: row.raw, hash: row.payloadHash }]);
    await settled!.audited;
    return settled!.processed;
  }

  /** A batch frame: its envelope keeps the frame; each message becomes a row of its own. */
  private async processBatch(id: string, split: SplitFrame, peer: string): Promise<ReceivedFrame> {
    const children = split.messages.map((message) => ({
      raw: message.raw,
      hash: payloadHash(message.raw),
    }));
    const childIds = await withTransaction(this.db, async (tx) => {
      const inserted = await insertHl7Raw(
        tx,
        children.map((child, index) => ({
          raw: child.raw,
          peer,
          payloadHash: child.hash,
          batchId: id,
          batchIndex: index,
        })),
      );
      await recordHl7Outcome(tx, id, {
        status: 'batch',
        ackCode: null,
        messageType: 'BATCH',
        controlId: split.batchControlId || null,
        note: `${split.messages.length} message(s), stored one by one`,
      });
      return inserted;
    });
    const messages: ProcessedMessage[] = [];
    const settled = await this.processMessages(
      children.map((child, index) => ({ ...child, id: childIds[index]! })),
    );
    for (const { processed, audited } of settled) {
      await audited;
      messages.push(processed);
    }
    const ack = buildBatchAck(
      messages.map((message) => this.ackFor(message)),
      {
        batchControlId: split.batchControlId,
        hadFileHeader: split.hadFileHeader,
        ackControlId: `MX${id}`,
        now: this.now(),
      },
    );
    return { ids: [id, ...childIds], messages, ack };
  }

  /**
   * Reads, plans and applies stored messages, in order; one result per message, whose audit
   * write has started (in order) but may not be durable yet: await it before answering.
   */
  private async processMessages(messages: readonly StoredMessage[]): Promise<Settled[]> {
    const read: (ProcessedMessage | PlannedMessage)[] = [];
    for (const message of messages) read.push(await this.readAndPlan(message));

    const planned = read.filter((entry): entry is PlannedMessage => 'plan' in entry);
    const maxBatch = this.options.maxBatch ?? 32;
    const applied = new Map<string, { processed: ProcessedMessage; audit: boolean }>();
    for (let start = 0; start < planned.length; start += maxBatch) {
      const batch = planned.slice(start, start + maxBatch);
      for (const result of await this.applyBatch(batch)) applied.set(result.processed.id, result);
    }

    return read.map((entry) => {
      const result = 'plan' in entry ? applied.get(entry.id) : undefined;
      if (!('plan' in entry) || !result) {
        return { processed: entry as ProcessedMessage, audited: Promise.resolve() };
      }
      const audited = result.audit
        ? this.audit(result.processed, entry.eventType, entry.now)
        : Promise.resolve();
      // Awaited in order by the caller; marked handled now, so that a failure of one does not
      // surface as an unhandled rejection of those after it.
      audited.catch(() => {});
      return { processed: result.processed, audited };
    });
  }

  /**
   * Reads and plans a message. One that fails here is refused whatever the hospital's state
   * (AR), and one MedaxisError does not apply is kept as unsupported: both are recorded and
   * returned as processed; the rest is returned planned.
   */
  private async readAndPlan({
    id,
    raw,
    hash,
  }: StoredMessage): Promise<ProcessedMessage | PlannedMessage> {
    const now = this.now();
    let header: MessageHeader | undefined;
    let encoding: Hl7Encoding | undefined;
    let known: Omit<Hl7Outcome, 'status' | 'ackCode'> = {};

    let planned: ReturnType<typeof planMessage>;
    try {
      const message = readMessage(decodeHl7Bytes(raw).text);
      header = message.header;
      encoding = message.encoding;
      known = {
        controlId: header.controlId,
        messageType: header.messageType,
        sendingFacility: header.sendingFacility || header.sendingApplication || null,
        zSegments: message.zSegments,
      };
      planned = planMessage(message, { timeZone: await this.timeZone(), now });
    } catch (error) {
      if (!(error instanceof Hl7ReadError) && !isMedaxisError(error)) {
        return this.fail(id, known, header, encoding, error);
      }
      const outcome: Hl7Outcome = {
        ...known,
        status: 'rejected',
        ackCode: 'AR',
        errorCode: ErrorCode.validation,
        errorReason: error.reason,
        errorMessage: error.message,
      };
      await recordHl7Outcome(this.db, id, outcome);
      return { id, outcome, header, encoding };
    }

    if (planned.kind === 'unsupported') {
      const outcome: Hl7Outcome = {
        ...known,
        status: 'unsupported',
        ackCode: 'AR',
        eventType: planned.eventType,
        eventTypeRule: planned.rule,
        errorCode: ErrorCode.validation,
        errorReason: planned.reason,
        errorMessage:
          planned.reason === 'unsupported_message_type'
            ? `${header?.messageType ?? ''} messages are stored, not applied.`
            : `ADT ${planned.eventType ?? ''} is stored, not applied.`,
      };
      await recordHl7Outcome(this.db, id, outcome);
      return { id, outcome, header, encoding };
    }

    return {
      id,
      raw,
      hash,
      now,
      header,
      encoding,
      known: {
        ...known,
        eventType: planned.eventType,
        eventTypeRule: planned.rule,
        eventTime: planned.eventTime,
      },
      plan: planned.plan,
      eventType: planned.eventType,
    };
  }

  /**
   * Applies messages in one transaction; if it cannot commit as a whole, nothing of it did,
   * and each message is applied in a transaction of its own instead.
   */
  private async applyBatch(messages: readonly PlannedMessage[]) {
    let results: { processed: ProcessedMessage; audit: boolean; skipped?: boolean }[] = [];
    if (messages.length > 1) {
      // Rolled back whole when it throws: each message alone then, where a fault is its own.
      results = await this.applyInOneTransaction(messages).catch(() => []);
    }
    if (results.length === 0) {
      for (const message of messages) results.push(await this.applyAlone(message));
    }
    for (const result of results) {
      if (!result.skipped) continue;
      const { processed } = result;
      processed.outcome = await this.storedOutcome(processed.id);
    }
    return results;
  }

  /** One message in its own transaction, tried again on a deadlock as withTransaction does. */
  private async applyAlone(message: PlannedMessage) {
    for (let attempt = 1; ; attempt++) {
      try {
        const [result] = await this.applyInOneTransaction([message]);
        return result!;
      } catch (error) {
        if (attempt < 4 && isRetryableError(error)) continue;
        const { id, known, header, encoding } = message;
        return { processed: await this.fail(id, known, header, encoding, error), audit: false };
      }
    }
  }

  /**
   * The batch transaction. Per message, one round trip opens it: the claim (the message's row
   * and payload-hash locks and the look for an applied copy, claimHl7MessageStatements), a
   * savepoint after it, so that rolling back the message keeps those locks, and the plan's
   * first lookup (openingStatements), which so costs no round trip of its own. The last
   * round trip appends the batch's events, records every outcome and commits. Throws, with
   * nothing committed, on a deadlock or serialization failure (for the caller to apply the
   * messages one by one) or when the transaction itself fails.
   */
  private async applyInOneTransaction(messages: readonly PlannedMessage[]) {
    const client = await this.db.connect();
    try {
      const results: {
        processed: ProcessedMessage;
        audit: boolean;
        /** Finished by another processor meanwhile: its stored outcome stands. */
        skipped?: boolean;
        /** Index of the message's last event among the batch's events. */
        lastEvent?: number;
      }[] = [];
      const events: EventInput[] = [];
      // Copies within the batch: the look for an applied copy cannot see them before COMMIT
      // (the outcomes are recorded then), but this transaction holds their hash locks.
      const appliedHere = new Map<string, string>();

      for (const [index, message] of messages.entries()) {
        const { id, hash, known, header, encoding } = message;
        // The plan's first lookup rides along: a message that turns out to be done or a copy
        // just leaves its answers unread (the visit it locked stays locked to COMMIT).
        const opened = await queryStatements(client, [
          index === 0 ? 'BEGIN' : 'RELEASE SAVEPOINT hl7_message',
          ...claimHl7MessageStatements(id, hash),
          'SAVEPOINT hl7_message',
          ...openingStatements(message.plan),
        ]);
        // Another processor (a reprocess, the recovery sweep) may have finished it meanwhile.
        const { status, appliedCopy } = readHl7Claim(opened.slice(1, 3));
        if (status === 'applied' || status === 'duplicate') {
          const processed = { id, outcome: { status, ackCode: null }, header, encoding };
          results.push({ processed, audit: false, skipped: true });
          continue;
        }

        const original = appliedCopy ?? appliedHere.get(hash);
        if (original) {
          const outcome: Hl7Outcome = {
            ...known,
            status: 'duplicate',
            ackCode: 'AA',
            duplicateOf: original,
            note: `exact retransmission of message ${original}: not applied again`,
          };
          const processed = { id, outcome, header, encoding, patientIds: [], encounterIds: [] };
          results.push({ processed, audit: true });
          continue;
        }

        try {
          const applied = await applyPlan(
            client,
            message.plan,
            { messageId: id, now: message.now },
            opened.slice(4),
          );
          events.push(...applied.events);
          appliedHere.set(hash, id);
          const outcome: Hl7Outcome = {
            ...known,
            status: 'applied',
            ackCode: 'AA',
            note: applied.notes.length > 0 ? applied.notes.join('; ') : null,
          };
          results.push({
            processed: {
              id,
              outcome,
              header,
              encoding,
              patientIds: applied.patientIds,
              encounterIds: applied.encounterIds,
            },
            audit: true,
            ...(applied.events.length > 0 ? { lastEvent: events.length - 1 } : {}),
          });
        } catch (error) {
          if (isRetryableError(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT hl7_message');
          results.push({ processed: refused(message, error), audit: false });
        }
      }

      const outcomes: Hl7OutcomeRow[] = results
        .filter((result) => !result.skipped)
        .map(({ processed, lastEvent }) => ({
          id: processed.id,
          outcome: processed.outcome,
          eventsAfter: lastEvent === undefined ? undefined : events.length - 1 - lastEvent,
        }));
      const committed = await queryStatements(client, [
        'RELEASE SAVEPOINT hl7_message',
        ...(events.length > 0 ? [appendEventsStatement(events)] : []),
        ...(outcomes.length > 0 ? [hl7OutcomesStatement(outcomes)] : []),
        'COMMIT',
      ]);
      const eventIds = events.length > 0 ? (committed[1]!.rows[0] as { ids: string[] }).ids : [];

      for (const result of results) {
        if (result.lastEvent === undefined) continue;
        result.processed.outcome.appliedEventId = eventIds[result.lastEvent] ?? null;
      }
      return results;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Every applied message and acknowledged retransmission, durable before its ACK leaves (the
   * caller awaits it). A failure reaches the caller, which then answers nothing: the message
   * stays applied, and the sender's resend is acknowledged as a duplicate.
   */
  private audit(processed: ProcessedMessage, eventType: string, at: Date): Promise<unknown> {
    return (
      this.options.audit?.record({
        source: 'hl7',
        operation: `hl7.${eventType}`,
        action: 'write',
        actor: { kind: 'system', id: 'system', roles: ['system'] },
        purpose: 'operations',
        resourceType: 'hl7_message',
        resourceId: processed.id,
        patientIds: processed.patientIds ?? [],
        encounterIds: processed.encounterIds ?? [],
        outcome: 'allowed',
        reason: processed.outcome.status === 'duplicate' ? 'duplicate' : null,
        at,
      }) ?? Promise.resolve()
    );
  }

  /** Our fault, not the message's: kept as rejected (reprocessable) and answered AE. */
  private async fail(
    id: string,
    known: Omit<Hl7Outcome, 'status' | 'ackCode'>,
    header: MessageHeader | undefined,
    encoding: Hl7Encoding | undefined,
    error: unknown,
  ): Promise<ProcessedMessage> {
    const outcome = internalFailure(known);
    // If even this fails (database gone), the row stays `received` for the recovery sweep.
    await recordHl7Outcome(this.db, id, outcome).catch(() => {});
    return { id, outcome, header, encoding, internalError: error };
  }

  private async storedOutcome(id: string): Promise<Hl7Outcome> {
    const row = await loadHl7Message(this.db, id);
    if (!row || row.status === 'received') throw new Error(`message ${id} has no outcome`);
    return {
      ...row,
      status: row.status,
      eventTime: row.eventTime ? new Date(row.eventTime) : null,
    };
  }

  private ackFor(processed: ProcessedMessage): string {
    const { outcome } = processed;
    return buildAck({
      ackCode: outcome.ackCode ?? 'AE',
      ackControlId: `MX${processed.id}`,
      header: processed.header,
      encoding: processed.encoding,
      controlId: outcome.controlId ?? undefined,
      error:
        outcome.ackCode === 'AA' || !outcome.errorCode
          ? undefined
          : {
              code: outcome.errorCode,
              reason: outcome.errorReason ?? '',
              message: outcome.errorMessage ?? '',
            },
      now: this.now(),
    });
  }

  private async timeZone(): Promise<string> {
    const now = Date.now();
    if (this.site && this.site.until > now) return this.site.timeZone;
    const site = await getSite(this.db);
    const timeZone = site?.timeZone ?? 'UTC';
    if (site) this.site = { timeZone, until: now + (this.options.siteCacheMs ?? 60_000) };
    return timeZone;
  }
}

/**
 * A message whose apply threw (and was rolled back): refused by the hospital's state (a
 * MedaxisError: the message was well formed, so an application error, AE), or a fault of
 * ours, kept as rejected (reprocessable) and answered AE.
 */
function refused(message: PlannedMessage, error: unknown): ProcessedMessage {
  const { id, known, header, encoding } = message;
  if (isMedaxisError(error)) {
    const outcome: Hl7Outcome = {
      ...known,
      status: 'rejected',
      ackCode: 'AE',
      errorCode: error.code,
      errorReason: error.reason,
      errorMessage: error.message,
    };
    return { id, outcome, header, encoding };
  }
  return { id, outcome: internalFailure(known), header, encoding, internalError: error };
}

function internalFailure(known: Omit<Hl7Outcome, 'status' | 'ackCode'>): Hl7Outcome {
  return {
    ...known,
    status: 'rejected',
    ackCode: 'AE',
    errorCode: ErrorCode.internal,
    errorReason: 'internal_error',
    errorMessage: 'MedAxis could not process the message; it is kept and can be reprocessed.',
  };
}
