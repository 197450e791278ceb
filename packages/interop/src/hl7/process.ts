import {
  claimHl7MessageStatements,
  getSite,
  hl7OutcomeStatement,
  insertHl7Raw,
  loadHl7Message,
  readHl7Claim,
  recordHl7Outcome,
  withTransaction,
  type Db,
  type Hl7Outcome,
} from '@medaxis/db';
import { ErrorCode, isMedaxisError, MedaxisError } from '@medaxis/domain';

import { buildAck, buildBatchAck } from './ack.ts';
import { applyPlan } from './apply.ts';
import { payloadHash, splitFrame } from './batch.ts';
import type { Hl7Encoding } from './escape.ts';
import { Hl7ReadError, readMessage, type MessageHeader } from './message.ts';
import { planMessage } from './plan.ts';
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
 * commit), then read, plan and apply each message in one transaction that also records its
 * outcome, then answer. Any failure after the raw commit still ends in a stored outcome and
 * an ACK; only a failure to store raw leaves the message unanswered (so the sender resends).
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
   * Stores frames (one commit for all of them), then processes each in order and returns one
   * result per frame; `onProcessed` gets each as soon as it is done (its outcome committed and
   * audited), so its ACK need not wait for the frames after it. Throws if the frames could not
   * be stored, or if one could not be audited (those before it were passed on).
   */
  async receive(
    frames: readonly Buffer[],
    peer: string,
    onProcessed?: (result: ReceivedFrame) => void,
  ): Promise<ReceivedFrame[]> {
    const ids = await insertHl7Raw(
      this.db,
      frames.map((raw) => ({ raw, peer, payloadHash: payloadHash(raw) })),
    );
    const results: ReceivedFrame[] = [];
    for (const [index, frame] of frames.entries()) {
      const result = await this.processFrame(ids[index]!, frame, peer);
      results.push(result);
      onProcessed?.(result);
    }
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
    return this.processMessage(id, row.raw, row.payloadHash);
  }

  private async processFrame(id: string, frame: Buffer, peer: string): Promise<ReceivedFrame> {
    const split = splitFrame(frame);
    // A batch without a message is answered like any unreadable message (AR).
    if (!split.batch || split.messages.length === 0) {
      const processed = await this.processMessage(id, frame, payloadHash(frame));
      return { ids: [id], messages: [processed], ack: this.ackFor(processed) };
    }

    // A batch: its envelope keeps the frame; each message becomes a row of its own.
    const childIds = await withTransaction(this.db, async (tx) => {
      const inserted = await insertHl7Raw(
        tx,
        split.messages.map((message, index) => ({
          raw: message.raw,
          peer,
          payloadHash: payloadHash(message.raw),
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
    for (const [index, message] of split.messages.entries()) {
      messages.push(
        await this.processMessage(childIds[index]!, message.raw, payloadHash(message.raw)),
      );
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

  private async processMessage(id: string, raw: Buffer, hash: string): Promise<ProcessedMessage> {
    const now = this.now();
    let header: MessageHeader | undefined;
    let encoding: Hl7Encoding | undefined;
    let known: Omit<Hl7Outcome, 'status' | 'ackCode'> = {};

    // Read and plan: a message that fails here is refused whatever the hospital's state (AR).
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

    known = {
      ...known,
      eventType: planned.eventType,
      eventTypeRule: planned.rule,
      eventTime: planned.eventTime,
    };

    // Apply: the effect and the outcome commit together, or neither does.
    let touched: { patientIds: string[]; encounterIds: string[] } | undefined;
    let processed: ProcessedMessage;
    try {
      const outcome = await withTransaction(
        this.db,
        async (tx, claimed) => {
          // Another processor (a reprocess, the recovery sweep) may have finished it meanwhile.
          const { status, appliedCopy: original } = readHl7Claim(claimed);
          if (status === 'applied' || status === 'duplicate') return undefined;

          if (original) {
            const duplicate: Hl7Outcome = {
              ...known,
              status: 'duplicate',
              ackCode: 'AA',
              duplicateOf: original,
              note: `exact retransmission of message ${original}: not applied again`,
            };
            return duplicate;
          }
          const result = await applyPlan(tx, planned.plan, { messageId: id, now });
          touched = result;
          const applied: Hl7Outcome = {
            ...known,
            status: 'applied',
            ackCode: 'AA',
            appliedEventId: result.eventIds.at(-1) ?? null,
            note: result.notes.length > 0 ? result.notes.join('; ') : null,
          };
          return applied;
        },
        {
          // The locks and the look for a copy open the transaction, and the outcome closes
          // it: they travel with BEGIN or COMMIT instead of costing round trips of their own.
          begin: claimHl7MessageStatements(id, hash),
          commitWith: (result) => result && hl7OutcomeStatement(id, result),
        },
      );
      if (!outcome) return { id, outcome: await this.storedOutcome(id), header, encoding };
      processed = {
        id,
        outcome,
        header,
        encoding,
        patientIds: touched?.patientIds ?? [],
        encounterIds: touched?.encounterIds ?? [],
      };
    } catch (error) {
      if (!isMedaxisError(error)) return this.fail(id, known, header, encoding, error);
      const outcome: Hl7Outcome = {
        ...known,
        status: 'rejected',
        // The message was well formed; the hospital's state refused it: an application error.
        ackCode: 'AE',
        errorCode: error.code,
        errorReason: error.reason,
        errorMessage: error.message,
      };
      await recordHl7Outcome(this.db, id, outcome);
      return { id, outcome, header, encoding };
    }

    // Durable before the ACK leaves. A failure reaches the caller, which then answers nothing:
    // the message stays applied, and the sender's resend is acknowledged as a duplicate.
    await this.options.audit?.record({
      source: 'hl7',
      operation: `hl7.${planned.eventType}`,
      action: 'write',
      actor: { kind: 'system', id: 'system', roles: ['system'] },
      purpose: 'operations',
      resourceType: 'hl7_message',
      resourceId: id,
      patientIds: processed.patientIds ?? [],
      encounterIds: processed.encounterIds ?? [],
      outcome: 'allowed',
      reason: processed.outcome.status === 'duplicate' ? 'duplicate' : null,
      at: now,
    });
    return processed;
  }

  /** Our fault, not the message's: kept as rejected (reprocessable) and answered AE. */
  private async fail(
    id: string,
    known: Omit<Hl7Outcome, 'status' | 'ackCode'>,
    header: MessageHeader | undefined,
    encoding: Hl7Encoding | undefined,
    error: unknown,
  ): Promise<ProcessedMessage> {
    const outcome: Hl7Outcome = {
      ...known,
      status: 'rejected',
      ackCode: 'AE',
      errorCode: ErrorCode.internal,
      errorReason: 'internal_error',
      errorMessage: 'MedAxis could not process the message; it is kept and can be reprocessed.',
    };
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
