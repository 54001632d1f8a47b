import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A webhook receiver on 127.0.0.1:0: records every request; replies per path (default 200). */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  readonly #replies = new Map<string, Reply[]>();
  #server: Server | null = null;
  #base = '';

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        this.requests.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        const queue = this.#replies.get(path);
        const reply = (queue !== undefined && queue.length > 1 ? queue.shift() : queue?.[0]) ?? { status: 200 };
        response.writeHead(reply.status, reply.headers ?? { 'content-type': 'text/plain' });
        response.end(reply.body ?? 'ok');
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.#base = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Replies in order for a path; the last one repeats. */
  replyWith(path: string, ...replies: Reply[]): void {
    this.#replies.set(path, replies);
  }

  url(path: string): string {
    return `${this.#base}${path}`;
  }

  at(path: string): ReceivedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}
