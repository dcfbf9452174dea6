/** Cancelling a streamed call the moment its reply text shows, and finding where the host saw it. */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect, vi } from 'vitest';
import type { Simulator, StreamEvent } from './simulator.js';

/**
 * Starts kimi_stream and aborts it from the first progress message that contains `marker`.
 * Resolves once the call has been refused as cancelled (-32001) and the simulator has seen the
 * upstream connection closed; returns that close and how long after the cancel it came.
 */
export async function cancelOnFirstText(client: Client, sim: Simulator, marker: string): Promise<{ closed: StreamEvent; afterMs: number }> {
  const ac = new AbortController();
  let cancelledAt = 0;
  const pending = client.callTool({ name: 'kimi_stream', arguments: { prompt: 'long' } }, undefined, {
    signal: ac.signal,
    onprogress: (p) => {
      if (!cancelledAt && p.message?.includes(marker)) {
        cancelledAt = Date.now();
        ac.abort('user pressed stop');
      }
    },
  });
  await expect(pending).rejects.toMatchObject({ code: -32001 });
  const closedSince = () => sim.streams.find((e) => e.kind === 'closed-by-client' && e.at >= cancelledAt);
  await vi.waitFor(() => expect(closedSince()).toBeDefined());
  const closed = closedSince()!;
  return { closed, afterMs: closed.at - cancelledAt };
}
