/** The separators and escape character a message declares in MSH-1 and MSH-2. */
export interface Hl7Encoding {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

export const standardEncoding: Hl7Encoding = {
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
};

/**
 * Decodes HL7 escape sequences in a value that has already been split at its separators:
 * \F\ \S\ \T\ \R\ \E\ become the separators they stand for, \Xhh..\ the bytes it spells (as
 * UTF-8, else Latin-1), \.br\ a line break. Formatting (\H\, \N\, \.sp\, \.in\, \.ti\, \.ce\)
 * and charset switches (\C..\, \M..\) carry no text and are dropped; locally defined \Z..\
 * sequences and anything unterminated are kept as written.
 */
export function unescapeHl7(value: string, encoding: Hl7Encoding = standardEncoding): string {
  const escape = encoding.escape;
  if (escape === '' || !value.includes(escape)) return value;

  let result = '';
  let position = 0;
  while (position < value.length) {
    const start = value.indexOf(escape, position);
    if (start === -1) break;
    const end = value.indexOf(escape, start + 1);
    if (end === -1) break;
    result += value.slice(position, start);
    const sequence = value.slice(start + 1, end);
    const decoded = decodeSequence(sequence, encoding);
    result += decoded ?? value.slice(start, end + 1);
    position = end + 1;
  }
  return result + value.slice(position);
}

function decodeSequence(sequence: string, encoding: Hl7Encoding): string | undefined {
  switch (sequence) {
    case 'F':
      return encoding.field;
    case 'S':
      return encoding.component;
    case 'T':
      return encoding.subcomponent;
    case 'R':
      return encoding.repetition;
    case 'E':
      return encoding.escape;
    case 'H':
    case 'N':
      return '';
    case '.br':
      return '\n';
  }
  const kind = sequence.charAt(0);
  if (kind === 'X') return decodeHex(sequence.slice(1));
  if (kind === 'C' || kind === 'M')
    return /^[0-9A-Fa-f]+$/.test(sequence.slice(1)) ? '' : undefined;
  if (/^\.(sp|in|ti|ce|sk|fi|nf)/.test(sequence)) return '';
  return undefined;
}

function decodeHex(hex: string): string | undefined {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes = Buffer.from(hex, 'hex');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

/** Escapes text we write into a message (ACK texts), so it cannot break the structure. */
export function escapeHl7(value: string, encoding: Hl7Encoding = standardEncoding): string {
  let result = '';
  for (const char of value) {
    if (char === encoding.escape) result += `${encoding.escape}E${encoding.escape}`;
    else if (char === encoding.field) result += `${encoding.escape}F${encoding.escape}`;
    else if (char === encoding.component) result += `${encoding.escape}S${encoding.escape}`;
    else if (char === encoding.subcomponent) result += `${encoding.escape}T${encoding.escape}`;
    else if (char === encoding.repetition) result += `${encoding.escape}R${encoding.escape}`;
    else if (char === '\r' || char === '\n') result += `${encoding.escape}.br${encoding.escape}`;
    else result += char;
  }
  return result;
}
