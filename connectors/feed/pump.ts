import type { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RecordedEvent, Subscription } from '../../streams/eventstore/index.ts';
import { HEARTBEAT } from './sse.ts';

export interface PumpOptions {
  subscription: Subscription;
  /** The client's connection (an HTTP response). */
  out: Writable;
  /** The frame to send for an event, or null to skip it (another tenant's, say). */
  render(event: RecordedEvent): string | null | Promise<string | null>;
  /** A `: ping` comment this often, unless the client is already behind. */
  heartbeatMs: number;
  /** Ends the feed: the subscription stops, a wait for the client to drain gives up. */
  signal?: AbortSignal;
  /** Each time a write had to wait for the client to drain. */
  onStall?(): void;
  /** Events handled between two turns of the event loop, so a long catch-up never starves other requests. */
  yieldEvery?: number;
}

/**
 * Copies a subscription to a slow or fast client without buffering: the next
 * event is pulled from the (pull-based) subscription only after the previous
 * frame was accepted, and a write that returns false waits for 'drain'. So the
 * process holds at most the subscription's page plus one frame per client.
 * Resolves when the client goes away, `signal` aborts, or the subscription
 * ends; rejects when the subscription fails. The subscription is always stopped.
 */
export async function pumpFeed({ subscription, out, render, heartbeatMs, signal, onStall, yieldEvery = 256 }: PumpOptions): Promise<void> {
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 1) throw new RangeError('pumpFeed: heartbeatMs must be a positive integer');
  const gone = (): boolean => out.destroyed || out.writableEnded || signal?.aborted === true;
  const stop = (): void => void subscription.stop();
  out.once('close', stop);
  signal?.addEventListener('abort', stop, { once: true });
  const heartbeat = setInterval(() => {
    if (!gone() && !out.writableNeedDrain) out.write(HEARTBEAT);
  }, heartbeatMs);
  heartbeat.unref();
  try {
    let handled = 0;
    for await (const event of subscription) {
      if (gone()) break;
      const frame = await render(event);
      if (frame !== null && !gone() && !out.write(frame)) {
        onStall?.();
        if (!(await drained(out, signal))) break;
      }
      if (++handled % yieldEvery === 0) await nextTurn();
    }
  } finally {
    clearInterval(heartbeat);
    out.off('close', stop);
    signal?.removeEventListener('abort', stop);
    await subscription.stop();
  }
}

/** True on 'drain'; false when the connection closes or `signal` aborts first. */
function drained(out: Writable, signal: AbortSignal | undefined): Promise<boolean> {
  if (out.destroyed || signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const finish = (ok: boolean) => (): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      signal?.removeEventListener('abort', onClose);
      resolve(ok);
    };
    const onDrain = finish(true);
    const onClose = finish(false);
    out.once('drain', onDrain);
    out.once('close', onClose);
    signal?.addEventListener('abort', onClose, { once: true });
  });
}
