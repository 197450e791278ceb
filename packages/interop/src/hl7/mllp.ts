/**
 * MLLP (Minimal Lower Layer Protocol, HL7 v2 transport over TCP): each message travels as
 * VT <payload> FS CR. Framing is kept apart from parsing on purpose: the payload must be
 * stored exactly as received before anyone tries to read it.
 */
export const mllpStartByte = 0x0b;
export const mllpEndByte = 0x1c;
export const carriageReturn = 0x0d;

export function encodeMllpFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(payload.length + 3);
  frame[0] = mllpStartByte;
  frame.set(payload, 1);
  frame[payload.length + 1] = mllpEndByte;
  frame[payload.length + 2] = carriageReturn;
  return frame;
}

export class MllpFrameTooLarge extends Error {
  override readonly name = 'MllpFrameTooLarge';
}

/**
 * Cuts a byte stream into frame payloads. Bytes outside a frame (the CR after FS, keep-alive
 * noise) are skipped. A frame ends at FS; the CR that should follow is not waited for, so a
 * sender that omits it still gets its answer. Chunks are scanned once each, so a large
 * message arriving in many small chunks costs linear time.
 */
export class MllpDecoder {
  private parts: Buffer[] = [];
  private partBytes = 0;
  private inFrame = false;

  constructor(private readonly maxFrameBytes = 16 * 1024 * 1024) {}

  /** Bytes of a frame begun but not yet ended: what a dropped connection would cut off. */
  get pendingBytes(): number {
    return this.inFrame ? this.partBytes : 0;
  }

  /** Returns the payloads of the frames this chunk completes, in order. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let position = 0;
    while (position < chunk.length) {
      if (!this.inFrame) {
        const start = chunk.indexOf(mllpStartByte, position);
        if (start === -1) break;
        this.inFrame = true;
        position = start + 1;
        continue;
      }
      const end = chunk.indexOf(mllpEndByte, position);
      const piece = chunk.subarray(position, end === -1 ? chunk.length : end);
      this.parts.push(piece);
      this.partBytes += piece.length;
      if (this.partBytes > this.maxFrameBytes) {
        this.reset();
        throw new MllpFrameTooLarge(`an MLLP frame exceeded ${this.maxFrameBytes} bytes`);
      }
      if (end === -1) break;
      frames.push(
        this.parts.length === 1 ? Buffer.from(this.parts[0]!) : Buffer.concat(this.parts),
      );
      this.reset();
      position = end + 1;
    }
    return frames;
  }

  private reset() {
    this.parts = [];
    this.partBytes = 0;
    this.inFrame = false;
  }
}
