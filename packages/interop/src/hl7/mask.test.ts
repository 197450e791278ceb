import { describe, expect, it } from 'vitest';

import { hl7PatientIdentifiers, maskHl7Identity, type Hl7IdentityKind } from './mask.ts';

const message = [
  'MSH|^~\\&|ADT|NORTHGATE|MEDAXIS|MX|20261204101500||ADT^A01^ADT_A01|C1|P|2.5',
  'EVN|A01|20261204101500',
  'PID|1||12345^^^NGH^MR~999^^^SSA^SS||Doe^Jane^Q||19800214|F|||1 Main St^^Town||555-0101',
  'NK1|1|Doe^John|SPO|1 Main St^^Town',
  'PV1|1|I|MED^01^A||||1234^Welby^Marcus|||||||||||V100',
  'ZPI|secret note',
].join('\r');

const none = new Set<Hl7IdentityKind>();
const all = new Set<Hl7IdentityKind>(['mrn', 'name', 'birthDate', 'sex', 'other']);

describe('HL7 identity mask', () => {
  it('hides every patient identity field from a viewer who may see none', () => {
    const masked = maskHl7Identity(message, none).split('\r');

    expect(masked[0]).toBe(message.split('\r')[0]);
    expect(masked[2]).toBe('PID|1||***||***||***|***|||***||***');
    expect(masked[3]).toBe('NK1|***|***|***|***');
    // The visit, its location and the clinician are operational: they stay.
    expect(masked[4]).toBe('PV1|1|I|MED^01^A||||1234^Welby^Marcus|||||||||||V100');
    expect(masked[5]).toBe('ZPI|***');
    expect(masked.join('\r')).not.toMatch(/Doe|Jane|12345|19800214|Main St|555/);
  });

  it('shows what the viewer may see and hides the rest', () => {
    const masked = maskHl7Identity(message, new Set<Hl7IdentityKind>(['mrn', 'sex']));

    expect(masked.split('\r')[2]).toBe('PID|1||12345^^^NGH^MR~999^^^SSA^SS||***||***|F|||***||***');
  });

  it('leaves the message as it was for a viewer who may see all of it', () => {
    expect(maskHl7Identity(message.replaceAll('\r', '\n'), all)).toBe(message);
  });

  it('masks an unreadable message line by line all the same', () => {
    expect(maskHl7Identity('garbage\nPID|1||777||Roe^Ann', none)).toBe('garbage\rPID|1||***||***');
  });

  it('names the patients of PID-3 and MRG-1, with the sender as default authority', () => {
    const merge = `${message.split('\r')[0]}\rPID|1||A1^^^NGH^MR\rMRG|B2`;

    expect(hl7PatientIdentifiers(message)).toEqual([
      { authority: 'NGH', mrn: '12345' },
      { authority: 'SSA', mrn: '999' },
    ]);
    expect(hl7PatientIdentifiers(merge)).toEqual([
      { authority: 'NGH', mrn: 'A1' },
      { authority: 'NORTHGATE', mrn: 'B2' },
    ]);
    expect(hl7PatientIdentifiers('not a message')).toEqual([]);
  });
});
