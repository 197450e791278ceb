const bom = [0xef, 0xbb, 0xbf] as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });
// WHATWG's "latin1" is windows-1252, a superset of ISO 8859-1 for printable text.
const latin1 = new TextDecoder('latin1');

export interface DecodedText {
  text: string;
  charset: 'utf-8' | 'windows-1252';
  hadBom: boolean;
}

export function startsWithBom(bytes: Uint8Array): boolean {
  return bytes[0] === bom[0] && bytes[1] === bom[1] && bytes[2] === bom[2];
}

/**
 * Bytes of a message as text. A UTF-8 byte order mark is dropped (real feeds send one, and
 * the parser wants MSH first). UTF-8 is tried first; bytes that are not UTF-8 are read as
 * windows-1252, the usual 8-bit charset of older feeds (MSH-18 "8859/1"). The raw bytes stay
 * stored, so a message can be reread if this guess was wrong.
 */
export function decodeHl7Bytes(raw: Uint8Array): DecodedText {
  const hadBom = startsWithBom(raw);
  const body = hadBom ? raw.subarray(3) : raw;
  // NUL is no character of any HL7 message; PostgreSQL text cannot hold it either.
  try {
    return { text: withoutNul(utf8.decode(body)), charset: 'utf-8', hadBom };
  } catch {
    return { text: withoutNul(latin1.decode(body)), charset: 'windows-1252', hadBom };
  }
}

function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}
