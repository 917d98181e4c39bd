import { Worker } from 'node:worker_threads';
import type { RingBase, RingOptions, RingParts } from './model/index.ts';
import type { RingJob } from './ring-worker.ts';

/** The worker stopped (crashed, ran out of memory, was terminated) before answering: trying again starts a new one. */
export class RingWorkerError extends Error {
  override name = 'RingWorkerError';
  readonly retriable = true;
}

type Answer = { id: number; parts: RingParts; error?: undefined } | { id: number; error: string };

/**
 * Builds rings in one worker thread, off the event loop: a 1000-shard ring is
 * ~0.8 s of work. The worker starts on the first build and holds the process
 * open only while a build is pending; a base ring's arrays are copied to it,
 * the built arrays transferred back.
 */
export function createRingBuilder() {
  let worker: Worker | null = null;
  let nextId = 0;
  const pending = new Map<number, { resolve: (parts: RingParts) => void; reject: (error: Error) => void }>();

  function failAll(error: Error): void {
    for (const job of pending.values()) job.reject(error);
    pending.clear();
  }

  function started(): Worker {
    if (worker) return worker;
    const w = new Worker(new URL('./ring-worker.mjs', import.meta.url));
    w.on('message', (answer: Answer) => {
      const job = pending.get(answer.id);
      if (!job) return;
      pending.delete(answer.id);
      if (pending.size === 0) w.unref();
      if (answer.error === undefined) job.resolve(answer.parts);
      else job.reject(new Error(`ring build failed: ${answer.error}`));
    });
    w.on('error', (error) => {
      if (worker === w) worker = null;
      failAll(new RingWorkerError(`ring worker failed: ${error.message}`, { cause: error }));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      failAll(new RingWorkerError(`ring worker exited with code ${code}`));
    });
    worker = w;
    return w;
  }

  return {
    /** The arrays of the ring of `options`, built in the worker (from `base` when it is of the same region and virtual nodes). */
    build(options: RingOptions, base?: RingBase): Promise<RingParts> {
      const w = started();
      const id = nextId++;
      const job: RingJob = base ? { id, options, base } : { id, options };
      return new Promise<RingParts>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.ref();
        w.postMessage(job);
      });
    },
    /** Stops the worker; pending builds reject. The next build starts a new one. */
    async close(): Promise<void> {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}

export type RingBuilder = ReturnType<typeof createRingBuilder>;

let shared: RingBuilder | null = null;
/** The process's ring builder: one worker for every ring cache. */
export const sharedRingBuilder = (): RingBuilder => (shared ??= createRingBuilder());
