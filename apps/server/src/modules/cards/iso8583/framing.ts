/**
 * Splits a TCP byte stream into ISO 8583 bodies: each frame is a 2-byte big-endian length and that
 * many bytes of body. Chunks may end anywhere (inside the prefix, inside a body) and may hold many
 * frames. The reader holds at most one partial frame, so its memory is bounded by the frame limit.
 *
 * A zero or oversize length means the stream is out of sync: there is no way to find the next
 * frame, so the reader fails for good and the connection must be closed.
 */
import { type AppError, assert } from '../../../platform/errors.js';
import { limits } from '../../../platform/limits.js';
import { iso8583Error } from './codec.js';

export interface Iso8583FrameReaderOptions {
  /** Largest body accepted; at most limits.cardsIso8583FrameBytesMax. */
  frameBytesMax?: number;
}

export class Iso8583FrameReader {
  readonly frameBytesMax: number;
  /** Bytes of the length prefix read so far (0, 1 or 2) and its value. */
  private prefixBytesRead = 0;
  private bodyLength = 0;
  /** The body being filled, once the prefix is complete. */
  private body: Uint8Array | null = null;
  private bodyBytesRead = 0;
  private failure: AppError | null = null;

  constructor(options: Iso8583FrameReaderOptions = {}) {
    this.frameBytesMax = options.frameBytesMax ?? limits.cardsIso8583FrameBytesMax;
    assert(
      Number.isSafeInteger(this.frameBytesMax) &&
        this.frameBytesMax >= 1 &&
        this.frameBytesMax <= limits.cardsIso8583FrameBytesMax,
      'frameBytesMax must be between 1 and limits.cardsIso8583FrameBytesMax',
    );
  }

  /**
   * Feeds a chunk; returns the bodies it completed, in order (often none). Throws
   * iso8583_frame_invalid on a zero or oversize length, and again on every later call.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failure !== null) throw this.failure;
    const bodies: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body === null) {
        this.bodyLength = (this.bodyLength << 8) | chunk[offset]!;
        this.prefixBytesRead += 1;
        offset += 1;
        if (this.prefixBytesRead < 2) continue;
        if (this.bodyLength === 0 || this.bodyLength > this.frameBytesMax) {
          this.failure = iso8583Error(this.bodyLength === 0 ? 'frame_length_invalid' : 'frame_too_large');
          throw this.failure;
        }
        this.body = new Uint8Array(this.bodyLength);
        this.bodyBytesRead = 0;
        continue;
      }
      const take = Math.min(this.bodyLength - this.bodyBytesRead, chunk.length - offset);
      this.body.set(chunk.subarray(offset, offset + take), this.bodyBytesRead);
      this.bodyBytesRead += take;
      offset += take;
      if (this.bodyBytesRead === this.bodyLength) {
        bodies.push(this.body);
        this.body = null;
        this.prefixBytesRead = 0;
        this.bodyLength = 0;
      }
    }
    assert(offset === chunk.length, 'the reader consumes every byte it is given');
    return bodies;
  }

  /** Bytes of an incomplete frame held (prefix included); 0 between frames. */
  get pendingBytes(): number {
    return this.body === null ? this.prefixBytesRead : 2 + this.bodyBytesRead;
  }

  /** Whether the reader failed (the connection must be closed). */
  get failed(): boolean {
    return this.failure !== null;
  }
}
