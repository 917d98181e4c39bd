import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { NovaCronError } from '../../errors/index.ts';
import { createGroupCommit, type Op, type Outcome } from './group-commit.ts';
import { reviveError } from './wire-error.ts';
import type { WriterAnswer, WriterConfig, WriterRequest } from './writer-worker.ts';

/** A committed batch: each operation's outcome, and how long its transaction took (fsync included). */
export interface CommitReport {
  outcomes: Outcome[];
  transactionMs: number;
}

/**
 * Where the event store's group commits run. `commit` rejects when the
 * batch's transaction failed (nothing of it was written), with a retriable
 * NC_STORE_UNAVAILABLE when the writer itself stopped.
 */
export interface Writer {
  commit(ops: Op[], recordedAt: number): Promise<CommitReport>;
  /** Call with no commit pending. */
  close(): Promise<void>;
}

/** Group commits on the store's own connection, in its thread: for ':memory:', which another connection cannot open. */
export function createLoopWriter(db: Database.Database): Writer {
  const groupCommit = createGroupCommit(db);
  return {
    async commit(ops, recordedAt) {
      const started = performance.now();
      const outcomes = groupCommit(ops, recordedAt);
      return { outcomes, transactionMs: performance.now() - started };
    },
    async close() {},
  };
}

export interface WorkerWriterOptions extends WriterConfig {
  /** The worker's entry module (tests give one that crashes). */
  entry?: URL;
}

const writerStopped = (message: string, cause?: unknown) =>
  new NovaCronError('NC_STORE_UNAVAILABLE', message, { retriable: true, cause });

type Message = { type: 'commit'; store: number; config: WriterConfig; ops: Op[]; recordedAt: number } | { type: 'close'; store: number };

/**
 * One writer thread (writer-worker.ts) for every file store of the process
 * that uses the same entry: it costs ~0.8 s to start under tsx, so it starts
 * with the first store and stays, idle and holding no connection, after the
 * last one closes. It holds the process open only while a request is pending.
 *
 * If the worker stops (crashes, runs out of memory), every pending request
 * rejects with a retriable NC_STORE_UNAVAILABLE (a batch may or may not have
 * been committed: retrying with the same event ids is safe) and the next
 * request starts a new worker, which reopens each store's connection on its
 * next commit.
 */
function createWriterThread(entry: URL) {
  type Request = { resolve: (report: CommitReport) => void; reject: (error: Error) => void };
  /** The running worker and the requests it has not answered yet: a worker that stops fails its own, not its successor's. */
  let current: { worker: Worker; pending: Map<number, Request> } | null = null;
  let nextId = 0;

  function started() {
    if (current) return current;
    const worker = new Worker(entry);
    const pending = new Map<number, Request>();
    const stopped = (error: Error) => {
      if (current?.worker === worker) current = null;
      for (const request of pending.values()) request.reject(error);
      pending.clear();
    };
    worker.on('message', (answer: WriterAnswer) => {
      const request = pending.get(answer.id);
      if (!request) return;
      pending.delete(answer.id);
      if (pending.size === 0) worker.unref();
      if (answer.failure !== undefined) {
        request.reject(new Error(answer.failure));
        return;
      }
      request.resolve({
        outcomes: answer.outcomes.map((outcome) => (outcome.ok ? outcome : { ok: false, error: reviveError(outcome.error) })),
        transactionMs: answer.transactionMs,
      });
    });
    worker.on('error', (error) => stopped(writerStopped(`event store writer failed: ${error.message}`, error)));
    worker.on('exit', (code) => stopped(writerStopped(`event store writer exited with code ${code}`)));
    worker.unref();
    current = { worker, pending };
    return current;
  }

  return {
    started,
    send(message: Message): Promise<CommitReport> {
      if (message.type === 'close' && !current) return Promise.resolve({ outcomes: [], transactionMs: 0 }); // stopped: nothing is open
      const { worker, pending } = started();
      const id = nextId++;
      return new Promise<CommitReport>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ ...message, id } satisfies WriterRequest);
      });
    },
  };
}

const threads = new Map<string, ReturnType<typeof createWriterThread>>();
let nextStore = 0;

/**
 * Group commits in the writer thread, on a connection of its own to the file,
 * so the event loop goes on serving while a commit fsyncs.
 */
export function createWorkerWriter({ entry = new URL('./writer-worker.mjs', import.meta.url), ...config }: WorkerWriterOptions): Writer {
  let thread = threads.get(entry.href);
  if (!thread) {
    thread = createWriterThread(entry);
    threads.set(entry.href, thread);
  }
  const writerThread = thread;
  writerThread.started(); // it boots while the store serves its first reads
  const store = nextStore++;
  return {
    commit: (ops, recordedAt) => writerThread.send({ type: 'commit', store, config, ops, recordedAt }),
    async close() {
      // Its connection closes in the worker; if the worker is gone, so is the connection.
      await writerThread.send({ type: 'close', store }).catch(() => {});
    },
  };
}
