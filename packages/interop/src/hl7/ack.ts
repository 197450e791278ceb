import type { Hl7AckCode } from '@medaxis/db';

import { escapeHl7, standardEncoding, type Hl7Encoding } from './escape.ts';
import type { MessageHeader } from './message.ts';
import { formatHl7Timestamp } from './timestamp.ts';

export const receivingApplication = 'MEDAXIS';

export interface AckInput {
  ackCode: Hl7AckCode;
  /** MSH-10 of the ACK itself: unique per answer. */
  ackControlId: string;
  /** What could be read of the message; an unreadable one is answered with defaults. */
  header?: MessageHeader | undefined;
  encoding?: Hl7Encoding | undefined;
  /** MSH-10 of the message when it could not be read as a whole. */
  controlId?: string | undefined;
  error?: { code: string; reason: string; message: string } | undefined;
  now: Date;
}

/**
 * An HL7 v2 ACK: MSH, MSA (code, the message's control id, a short text) and, for AE/AR, an
 * ERR with the HL7 error code (table 0357), our code and reason (ERR-5) and the explanation
 * (ERR-8). Written with the message's own separators, so the fields echoed from its MSH stay
 * intact; the text we add is escaped.
 */
export function buildAck(input: AckInput): string {
  const encoding = input.encoding ?? standardEncoding;
  const { field: f, component: c } = encoding;
  const esc = (text: string) => escapeHl7(text, encoding);
  const header = input.header;
  const trigger = header?.triggerEvent ? `${c}${esc(header.triggerEvent)}${c}ACK` : '';
  const msh = [
    `MSH${f}${c}${encoding.repetition}${encoding.escape}${encoding.subcomponent}`,
    receivingApplication,
    header?.raw.receivingFacility ?? '',
    header?.raw.sendingApplication ?? '',
    header?.raw.sendingFacility ?? '',
    formatHl7Timestamp(input.now),
    '',
    `ACK${trigger}`,
    esc(input.ackControlId),
    header?.raw.processingId || 'P',
    header?.raw.version || '2.5.1',
  ].join(f);
  const controlId = esc(header?.controlId ?? input.controlId ?? '');
  const text = input.error ? `${input.error.code} ${input.error.reason}` : 'OK';
  const segments = [msh, ['MSA', input.ackCode, controlId, esc(text)].join(f)];
  if (input.error) {
    const [hl7Code, hl7Text] = hl7ErrorCode(input.error.code, input.error.reason);
    segments.push(
      [
        'ERR',
        '',
        '',
        `${hl7Code}${c}${esc(hl7Text)}${c}HL70357`,
        'E',
        `${esc(input.error.reason)}${c}${esc(input.error.code)}${c}MEDAXIS`,
        '',
        '',
        esc(input.error.message),
      ].join(f),
    );
  }
  return segments.join('\r');
}

/** Wraps the ACKs of a batch's messages in a batch (and a file, if the batch came in one). */
export function buildBatchAck(
  acks: readonly string[],
  batch: { batchControlId: string; hadFileHeader: boolean; ackControlId: string; now: Date },
): string {
  const time = formatHl7Timestamp(batch.now);
  const bhs = [
    'BHS',
    '^~\\&',
    receivingApplication,
    '',
    '',
    '',
    time,
    '',
    '',
    '',
    escapeHl7(batch.ackControlId),
    escapeHl7(batch.batchControlId),
  ].join('|');
  const body = [bhs, ...acks, `BTS|${acks.length}`];
  if (!batch.hadFileHeader) return body.join('\r');
  const fhs = ['FHS', '^~\\&', receivingApplication, '', '', '', time].join('|');
  return [fhs, ...body, 'FTS|1'].join('\r');
}

/** HL7 table 0357 for our reasons: what an interface engine's operator filters on. */
function hl7ErrorCode(code: string, reason: string): [string, string] {
  switch (reason) {
    case 'not_hl7':
    case 'bad_encoding_characters':
      return ['100', 'Segment sequence error'];
    case 'bad_timestamp':
      return ['102', 'Data type error'];
    case 'unsupported_message_type':
      return ['200', 'Unsupported message type'];
    case 'unsupported_event':
      return ['201', 'Unsupported event code'];
  }
  if (reason.startsWith('no_') && code === 'VALIDATION') return ['101', 'Required field missing'];
  if (code === 'NOT_FOUND') return ['204', 'Unknown key identifier'];
  return ['207', 'Application internal error'];
}
