/**
 * The sessions of 2025-era HTTP clients, bounded: at most `max` at once (a new one beyond that is
 * refused, see server.ts), and one with nothing in flight for `idleMs` is closed, since clients
 * that vanish send no DELETE. A session with a call or event stream open is never closed.
 */
import type { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Session {
  transport: NodeStreamableHTTPServerTransport;
  /** Requests (and open event streams) still running. */
  open: number;
  lastUsed: number;
}

export class LegacySessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    readonly max: number,
    private readonly idleMs: number,
  ) {
    this.sweep = setInterval(() => this.closeIdle(), Math.min(60_000, Math.max(100, idleMs / 2)));
    this.sweep.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  get full(): boolean {
    return this.sessions.size >= this.max;
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  /** A new session, counted open until the response to its initialize ends (`track`). */
  add(id: string, transport: NodeStreamableHTTPServerTransport): void {
    this.sessions.set(id, { transport, open: 1, lastUsed: Date.now() });
  }

  remove(id: string): void {
    this.sessions.delete(id);
  }

  /** One response of the session ended (the initialize one, counted open by `add`). */
  settle(id: string | undefined): void {
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (!session) return;
    session.open--;
    session.lastUsed = Date.now();
  }

  /** Serves a request within its session, counting it as open until its response ends. */
  serve(id: string, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const session = this.sessions.get(id)!;
    session.open++;
    session.lastUsed = Date.now();
    res.once('close', () => this.settle(id));
    return session.transport.handleRequest(req, res, body);
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const session of this.sessions.values()) {
      if (session.open === 0 && now - session.lastUsed > this.idleMs) void session.transport.close();
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweep);
    await Promise.all([...this.sessions.values()].map((s) => s.transport.close()));
  }
}
