import type { ByteStream } from './http.js';
import { sdkLimits } from './limits.js';

/** One Server-Sent Event (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseEvent {
  /** The event's id field, or the last id seen before it (the Last-Event-ID to resume from). */
  id: string | null;
  event: string;
  data: string;
  /** A `retry:` field seen so far, in milliseconds. */
  retryMs: number | null;
}

/**
 * Reads an SSE byte stream into events: UTF-8, lines ended by CRLF, LF or CR, comments ignored.
 * An event longer than `eventBytesMax` throws (a server that never ends a line is not buffered
 * without bound).
 */
export async function* readSse(
  stream: ByteStream,
  options: { eventBytesMax?: number } = {},
): AsyncGenerator<SseEvent, void, undefined> {
  const eventBytesMax = options.eventBytesMax ?? sdkLimits.streamEventBytesMax;
  const reader = stream.getReader();
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let lastId: string | null = null;
  let retryMs: number | null = null;
  let event = '';
  let data: string[] = [];
  let eventLength = 0;
  let firstChunk = true;

  const dispatch = (): SseEvent | null => {
    const ready =
      data.length === 0
        ? null
        : { id: lastId, event: event === '' ? 'message' : event, data: data.join('\n'), retryMs };
    event = '';
    data = [];
    eventLength = 0;
    return ready;
  };

  const field = (line: string): SseEvent | null => {
    if (line === '') return dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    eventLength += line.length;
    if (eventLength > eventBytesMax) throw new Error(`an SSE event is longer than ${eventBytesMax} characters`);
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
    else if (name === 'id' && !value.includes('\0')) lastId = value;
    else if (name === 'retry' && /^\d{1,9}$/.test(value)) retryMs = Number(value);
    return null;
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let text = decoder.decode(value, { stream: true });
      if (firstChunk) {
        if (text.startsWith('\uFEFF')) text = text.slice(1);
        firstChunk = false;
      }
      buffer += text;
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        if (match === null) break;
        // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
        if (match[0] === '\r' && match.index === buffer.length - 1) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        const ready = field(line);
        if (ready !== null) yield ready;
      }
      if (buffer.length > eventBytesMax) throw new Error(`an SSE line is longer than ${eventBytesMax} characters`);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
