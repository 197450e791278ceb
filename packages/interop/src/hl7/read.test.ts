import { describe, expect, it } from 'vitest';

import { payloadHash, splitFile, splitFrame } from './batch.ts';
import { escapeHl7, unescapeHl7 } from './escape.ts';
import { chooseEventType } from './event-type.ts';
import { Hl7ReadError, readMessage } from './message.ts';
import { decodeHl7Bytes } from './text.ts';

const adt = (segments: string[], separator = '\r') => segments.join(separator);

const a01 = [
  'MSH|^~\\&|ADT|NGH|MEDAXIS|NGH|20261203101500+0100||ADT^A01^ADT_A01|C1|P|2.5',
  'EVN|A01|20261203101400',
  'PID|1||123^^^NGH^MR~999^^^SSA^SS||O\\T\\Brien^Mary||19800102|F||||||||||ACC7',
  'PV1|1|I|MED1^012^B^NGH||||||||||||||||V100',
  'ZBX|1|custom^value',
];

describe('reading HL7 v2 messages', () => {
  it('reads CR, LF and CRLF separated messages alike', () => {
    const read = (separator: string) => readMessage(adt(a01, separator));
    for (const separator of ['\n', '\r\n']) {
      expect(read(separator).groups).toEqual(read('\r').groups);
      expect(read(separator).header).toEqual(read('\r').header);
    }
  });

  it('drops a UTF-8 byte order mark and falls back to windows-1252 for non-UTF-8 bytes', () => {
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(adt(a01))]);
    expect(decodeHl7Bytes(withBom)).toMatchObject({ hadBom: true, charset: 'utf-8' });
    expect(readMessage(decodeHl7Bytes(withBom).text).header.controlId).toBe('C1');

    const latin = Buffer.from(adt(a01).replace('Mary', 'Mar\u00ef'), 'latin1');
    const decoded = decodeHl7Bytes(latin);
    expect(decoded.charset).toBe('windows-1252');
    expect(readMessage(decoded.text).groups[0]!.pid.givenName).toBe('Mar\u00ef');
  });

  it('decodes escape sequences after splitting, so escaped separators stay text', () => {
    const message = readMessage(adt(a01));
    expect(message.groups[0]!.pid.familyName).toBe('O&Brien');
    expect(unescapeHl7('a\\F\\b\\S\\c\\R\\d\\E\\e\\.br\\f')).toBe('a|b^c~d\\e\nf');
    expect(unescapeHl7('\\X48692C\\ \\H\\bold\\N\\')).toBe('Hi, bold');
    expect(unescapeHl7('\\Zlocal\\ and \\unterminated')).toBe('\\Zlocal\\ and \\unterminated');
    expect(unescapeHl7(escapeHl7('a|b^c&d~e\\f'))).toBe('a|b^c&d~e\\f');
  });

  it('keeps Z-segments with the message', () => {
    expect(readMessage(adt(a01)).zSegments).toEqual([{ name: 'ZBX', text: 'ZBX|1|custom^value' }]);
  });

  it('reads the identifiers, location, visit number and account of the patient', () => {
    const [group] = readMessage(adt(a01)).groups;
    expect(group!.pid.identifiers).toEqual([
      { id: '123', authority: 'NGH', typeCode: 'MR' },
      { id: '999', authority: 'SSA', typeCode: 'SS' },
    ]);
    expect(group!.pv1).toMatchObject({
      patientClass: 'I',
      assignedLocation: { pointOfCare: 'MED1', room: '012', bed: 'B', facility: 'NGH' },
      visitNumber: 'V100',
    });
    expect(group!.pid.accountNumber).toBe('ACC7');
  });

  it('honours the separators a message declares in MSH-1 and MSH-2', () => {
    const message = readMessage('MSH_^~\\&_APP_FAC___20260101__ADT^A08_X9_P_2.5\rPID_1__77^^^F^MR');
    expect(message.header).toMatchObject({ sendingFacility: 'FAC', controlId: 'X9' });
    expect(message.groups[0]!.pid.identifiers[0]!.id).toBe('77');
  });

  it('refuses what is not an HL7 v2 message, naming why', () => {
    const reasonOf = (text: string) => {
      try {
        readMessage(text);
        return 'read';
      } catch (error) {
        return error instanceof Hl7ReadError ? error.reason : 'crash';
      }
    };
    expect(reasonOf('hello')).toBe('not_hl7');
    expect(reasonOf('MSH|^^^^|x')).toBe('bad_encoding_characters');
    expect(reasonOf('MSH|^~\\&|A|B|C|D|2026||')).toBe('no_message_type');
    expect(reasonOf('MSH|^~\\&|A|B|C|D|2026||ADT^A01|')).toBe('no_control_id');
  });
});

describe('the event type (MSH-9 against EVN-1)', () => {
  const header = (msh9: string, evn1: string) =>
    readMessage(adt([`MSH|^~\\&|A|B|C|D|2026||${msh9}|1|P|2.5`, `EVN|${evn1}|2026`]));

  it('takes MSH-9.2 and records that EVN-1 disagreed', () => {
    expect(chooseEventType(header('ADT^A11', 'A03'))).toEqual({
      eventType: 'A11',
      rule: 'MSH-9.2 (EVN-1 says A03: MSH-9 wins, EVN-1 is for backward compatibility)',
    });
    expect(chooseEventType(header('ADT^A01^ADT_A01', 'A01'))?.rule).toBe('MSH-9.2');
  });

  it('falls back to EVN-1 only when MSH-9 carries no trigger event', () => {
    expect(chooseEventType(header('ADT', 'A02'))).toEqual({
      eventType: 'A02',
      rule: 'EVN-1 (MSH-9 has no trigger event)',
    });
    expect(chooseEventType(header('ADT', ''))).toBeUndefined();
  });
});

describe('batches and retransmissions', () => {
  const batch = [
    'FHS|^~\\&||ABC||X|20070101',
    'BHS|^~\\&||ABC||X|20070101||||B-1',
    adt(a01),
    adt(a01.map((segment) => segment.replace('C1', 'C2'))),
    'BTS|2',
    'FTS|1',
  ].join('\r');

  it('cuts a batch into its messages, each the exact bytes it arrived as', () => {
    const split = splitFrame(Buffer.from(batch));
    expect(split).toMatchObject({ batch: true, batchControlId: 'B-1', hadFileHeader: true });
    expect(split.messages.map((message) => message.raw.toString())).toEqual([
      `${adt(a01)}\r`,
      `${adt(a01.map((segment) => segment.replace('C1', 'C2')))}\r`,
    ]);
  });

  it('keeps a single message whole', () => {
    const frame = Buffer.from(adt(a01));
    expect(splitFrame(frame)).toMatchObject({ batch: false, messages: [{ raw: frame }] });
  });

  it('sends a file as one frame per message, or the whole batch as one frame', () => {
    const two = Buffer.from(`\ufeff${adt(a01, '\n')}\n${adt(a01, '\n')}\n`);
    const frames = splitFile(two);
    expect(frames).toHaveLength(2);
    expect(frames[0]!.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(Buffer.concat(frames)).toEqual(two);
    expect(splitFile(Buffer.from(batch))).toHaveLength(1);
  });

  it('hashes retransmissions alike whatever their line endings, and reused ids apart', () => {
    const cr = Buffer.from(adt(a01));
    expect(payloadHash(Buffer.from(`${adt(a01, '\r\n')}\r\n`))).toBe(payloadHash(cr));
    expect(payloadHash(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), cr]))).toBe(payloadHash(cr));
    const otherEvent = Buffer.from(adt(a01).replace('ADT^A01', 'ADT^A02'));
    expect(payloadHash(otherEvent)).not.toBe(payloadHash(cr));
  });
});
