/**
 * The writer thread of the process's file event stores (writer.ts starts
 * it): one connection per store, on which it runs each batch it is sent as
 * one group commit, and answers with each operation's outcome. Its fsyncs
 * block this thread, not the stores' event loop.
 */
import { parentPort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { AppendResult } from '../port.ts';
import { openConnection, type ConnectionOptions } from './connection.ts';
import { createGroupCommit, type Op } from './group-commit.ts';
import { toWireError, type WireError } from './wire-error.ts';

export interface WriterConfig extends ConnectionOptions {
  path: string;
}

/** `store` names a store's connection: opened on its first commit, closed by 'close'. */
export type WriterRequest =
  | { type: 'commit'; id: number; store: number; config: WriterConfig; ops: Op[]; recordedAt: number }
  | { type: 'close'; id: number; store: number };

export type WireOutcome = { ok: true; result: AppendResult } | { ok: false; error: WireError };

/** A committed batch, or `failure`: the transaction failed and was rolled back; a closed connection is answered with no outcomes. */
export type WriterAnswer =
  | { id: number; outcomes: WireOutcome[]; transactionMs: number; failure?: undefined }
  | { id: number; failure: string };

if (!parentPort) throw new Error('writer-worker.ts runs in a worker thread');
const port = parentPort;
const connections = new Map<number, { db: Database.Database; groupCommit: ReturnType<typeof createGroupCommit> }>();

function connection(store: number, config: WriterConfig) {
  let open = connections.get(store);
  if (!open) {
    const db = openConnection(config.path, config);
    open = { db, groupCommit: createGroupCommit(db) };
    connections.set(store, open);
  }
  return open;
}

port.on('message', (request: WriterRequest) => {
  const started = performance.now();
  let answer: WriterAnswer;
  try {
    if (request.type === 'close') {
      connections.get(request.store)?.db.close();
      connections.delete(request.store);
      answer = { id: request.id, outcomes: [], transactionMs: 0 };
    } else {
      const outcomes = connection(request.store, request.config)
        .groupCommit(request.ops, request.recordedAt)
        .map((outcome): WireOutcome => (outcome.ok ? outcome : { ok: false, error: toWireError(outcome.error) }));
      answer = { id: request.id, outcomes, transactionMs: performance.now() - started };
    }
  } catch (error) {
    answer = { id: request.id, failure: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(answer);
});
