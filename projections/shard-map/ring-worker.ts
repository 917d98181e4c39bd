/**
 * The ring builder's worker thread (started through ring-worker.mjs): builds
 * the arrays of a ring (see buildRingParts) and hands them back by transfer.
 * Messages in: { id, options, base? }; out: { id, parts } or { id, error }.
 */
import { parentPort } from 'node:worker_threads';
import { buildRingParts, type RingBase, type RingOptions } from './model/index.ts';

export interface RingJob {
  id: number;
  options: RingOptions;
  base?: RingBase;
}

if (!parentPort) throw new TypeError('ring-worker.ts runs as a worker thread');
const port = parentPort;

port.on('message', ({ id, options, base }: RingJob) => {
  try {
    const parts = buildRingParts(options, base);
    // Fresh arrays, each the whole of its own ArrayBuffer: safe to hand over.
    port.postMessage({ id, parts }, [parts.positions, parts.owners, parts.replicas].map((a) => a.buffer as ArrayBuffer));
  } catch (error) {
    port.postMessage({ id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
