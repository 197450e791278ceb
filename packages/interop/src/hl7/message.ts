import { Hl7Message, type Hl7Field, type Hl7Segment } from '@medplum/core';

import { unescapeHl7, type Hl7Encoding } from './escape.ts';

/** An HL7 v2 message read into the fields MedAxis uses; values are unescaped. */
export interface ReadMessage {
  encoding: Hl7Encoding;
  header: MessageHeader;
  /** EVN-1, EVN-2 and EVN-6 as written (empty when there is no EVN segment). */
  evn: { eventType: string; recordedAt: string; occurredAt: string };
  /** PID segments with the PV1, PV2 and MRG that follow each (A17 and A40 carry several). */
  groups: PatientGroup[];
  /** Locally defined segments (Z..), kept with the message, never rejected. */
  zSegments: { name: string; text: string }[];
}

export interface MessageHeader {
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  /** MSH-7 as written. */
  messageTime: string;
  messageType: string;
  /** MSH-9.2, empty when the sender (v2.1 style) put only the type there. */
  triggerEvent: string;
  structure: string;
  controlId: string;
  processingId: string;
  version: string;
  /** MSH-3 to MSH-6, MSH-11 and MSH-12 exactly as written, for the ACK to echo. */
  raw: {
    sendingApplication: string;
    sendingFacility: string;
    receivingApplication: string;
    receivingFacility: string;
    processingId: string;
    version: string;
  };
}

/** An extended composite id (CX): the value, its assigning authority and type. */
export interface Identifier {
  id: string;
  authority: string;
  typeCode: string;
}

/** A person location (PL): point of care, room, bed, facility. */
export interface Location {
  pointOfCare: string;
  room: string;
  bed: string;
  facility: string;
}

export interface PatientGroup {
  pid: {
    identifiers: Identifier[];
    familyName: string;
    givenName: string;
    birthDate: string;
    sex: string;
    accountNumber: string;
  };
  pv1?: {
    patientClass: string;
    assignedLocation: Location;
    /** PV1-7 attending doctor (XCN): id, family, given, prefix, assigning authority. */
    attending: {
      id: string;
      familyName: string;
      givenName: string;
      prefix: string;
      authority: string;
    };
    priorLocation: Location;
    visitNumber: string;
    admitAt: string;
    dischargeAt: string;
  };
  pv2?: { expectedDischargeAt: string };
  mrg?: { identifiers: Identifier[]; accountNumber: string; visitNumber: string };
}

export class Hl7ReadError extends Error {
  override readonly name = 'Hl7ReadError';

  constructor(
    readonly reason: 'not_hl7' | 'bad_encoding_characters' | 'no_message_type' | 'no_control_id',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a message with Medplum's parser (CR, LF or CRLF between segments). Throws
 * Hl7ReadError when it is not an HL7 v2 message or lacks what an answer needs.
 */
export function readMessage(text: string): ReadMessage {
  const trimmed = text.replace(/^[\r\n\s]+/, '');
  if (!/^MSH.{5}/s.test(trimmed)) {
    throw new Hl7ReadError('not_hl7', 'The message does not start with an MSH segment.');
  }
  const encodingChars = trimmed.slice(3, 8);
  if (new Set(encodingChars).size !== 5 || /[A-Za-z0-9\r\n ]/.test(encodingChars)) {
    throw new Hl7ReadError(
      'bad_encoding_characters',
      'MSH-1 and MSH-2 must be five distinct separator characters.',
    );
  }
  const message = Hl7Message.parse(trimmed.replace(/[\r\n]+$/, ''));
  const encoding: Hl7Encoding = {
    field: message.context.fieldSeparator,
    component: message.context.componentSeparator,
    repetition: message.context.repetitionSeparator,
    escape: message.context.escapeCharacter,
    subcomponent: message.context.subcomponentSeparator,
  };
  const read = new Reader(encoding);
  const msh = message.segments[0]!;

  const header: MessageHeader = {
    sendingApplication: read.component(msh, 3, 1),
    sendingFacility: read.component(msh, 4, 1),
    receivingApplication: read.component(msh, 5, 1),
    receivingFacility: read.component(msh, 6, 1),
    messageTime: read.component(msh, 7, 1),
    messageType: read.component(msh, 9, 1).toUpperCase(),
    triggerEvent: read.component(msh, 9, 2).toUpperCase(),
    structure: read.component(msh, 9, 3).toUpperCase(),
    controlId: read.component(msh, 10, 1),
    processingId: read.component(msh, 11, 1),
    version: read.component(msh, 12, 1),
    raw: {
      sendingApplication: read.rawField(msh, 3),
      sendingFacility: read.rawField(msh, 4),
      receivingApplication: read.rawField(msh, 5),
      receivingFacility: read.rawField(msh, 6),
      processingId: read.rawField(msh, 11),
      version: read.rawField(msh, 12),
    },
  };
  if (header.messageType === '') {
    throw new Hl7ReadError('no_message_type', 'MSH-9 (message type) is empty.');
  }
  if (header.controlId === '') {
    throw new Hl7ReadError('no_control_id', 'MSH-10 (message control id) is empty.');
  }

  const evnSegment = message.getSegment('EVN');
  const evn = {
    eventType: evnSegment ? read.component(evnSegment, 1, 1).toUpperCase() : '',
    recordedAt: evnSegment ? read.component(evnSegment, 2, 1) : '',
    occurredAt: evnSegment ? read.component(evnSegment, 6, 1) : '',
  };

  const groups: PatientGroup[] = [];
  const zSegments: ReadMessage['zSegments'] = [];
  for (const segment of message.segments.slice(1)) {
    const current = groups.at(-1);
    switch (segment.name) {
      case 'PID':
        groups.push({ pid: read.pid(segment) });
        break;
      case 'PV1':
        if (current && !current.pv1) current.pv1 = read.pv1(segment);
        break;
      case 'PV2':
        if (current && !current.pv2) {
          current.pv2 = { expectedDischargeAt: read.component(segment, 9, 1) };
        }
        break;
      case 'MRG':
        if (current && !current.mrg) current.mrg = read.mrg(segment);
        break;
      default:
        if (segment.name.startsWith('Z')) {
          zSegments.push({ name: segment.name, text: unescapeHl7(segment.toString(), encoding) });
        }
    }
  }
  return { encoding, header, evn, groups, zSegments };
}

/** Field access that never throws on a short segment and always unescapes. */
class Reader {
  constructor(private readonly encoding: Hl7Encoding) {}

  field(segment: Hl7Segment, index: number): Hl7Field | undefined {
    // Typed as always present, but a short segment has no such field.
    const field: Hl7Field | undefined = segment.getField(index);
    return field;
  }

  rawField(segment: Hl7Segment, index: number): string {
    return this.field(segment, index)?.toString() ?? '';
  }

  /** Component `component` (1-based) of repetition `repetition` (0-based), subcomponent 1. */
  component(segment: Hl7Segment, index: number, component: number, repetition = 0): string {
    const value = this.field(segment, index)?.components[repetition]?.[component - 1] ?? '';
    const first = value.split(this.encoding.subcomponent)[0] ?? '';
    return unescapeHl7(first, this.encoding).trim();
  }

  repetitions(segment: Hl7Segment, index: number): number {
    return this.field(segment, index)?.components.length ?? 0;
  }

  identifiers(segment: Hl7Segment, index: number): Identifier[] {
    const identifiers: Identifier[] = [];
    for (let repetition = 0; repetition < this.repetitions(segment, index); repetition++) {
      const id = this.component(segment, index, 1, repetition);
      if (id === '') continue;
      identifiers.push({
        id,
        // CX-4 is an HD: its namespace id, else its universal id.
        authority:
          this.component(segment, index, 4, repetition) ||
          this.subcomponent(segment, index, 4, 2, repetition),
        typeCode: this.component(segment, index, 5, repetition).toUpperCase(),
      });
    }
    return identifiers;
  }

  subcomponent(
    segment: Hl7Segment,
    index: number,
    component: number,
    subcomponent: number,
    repetition = 0,
  ): string {
    const value = this.field(segment, index)?.components[repetition]?.[component - 1] ?? '';
    const part = value.split(this.encoding.subcomponent)[subcomponent - 1] ?? '';
    return unescapeHl7(part, this.encoding).trim();
  }

  location(segment: Hl7Segment, index: number): Location {
    return {
      pointOfCare: this.component(segment, index, 1),
      room: this.component(segment, index, 2),
      bed: this.component(segment, index, 3),
      facility: this.component(segment, index, 4),
    };
  }

  pid(segment: Hl7Segment): PatientGroup['pid'] {
    return {
      // PID-3; v2.2 and earlier senders still fill PID-2 (external id) instead.
      identifiers: [...this.identifiers(segment, 3), ...this.identifiers(segment, 2)],
      familyName: this.component(segment, 5, 1),
      givenName: this.component(segment, 5, 2),
      birthDate: this.component(segment, 7, 1),
      sex: this.component(segment, 8, 1).toUpperCase(),
      accountNumber: this.component(segment, 18, 1),
    };
  }

  pv1(segment: Hl7Segment): NonNullable<PatientGroup['pv1']> {
    return {
      patientClass: this.component(segment, 2, 1).toUpperCase(),
      assignedLocation: this.location(segment, 3),
      attending: {
        id: this.component(segment, 7, 1),
        familyName: this.component(segment, 7, 2),
        givenName: this.component(segment, 7, 3),
        prefix: this.component(segment, 7, 6),
        authority: this.component(segment, 7, 9),
      },
      priorLocation: this.location(segment, 6),
      visitNumber: this.component(segment, 19, 1),
      admitAt: this.component(segment, 44, 1),
      dischargeAt: this.component(segment, 45, 1),
    };
  }

  mrg(segment: Hl7Segment): NonNullable<PatientGroup['mrg']> {
    return {
      identifiers: this.identifiers(segment, 1),
      accountNumber: this.component(segment, 3, 1),
      visitNumber: this.component(segment, 5, 1),
    };
  }
}
