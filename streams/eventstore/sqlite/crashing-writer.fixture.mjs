// Writer worker entry for writer.test.ts: the real writer, except that a batch
// holding an operation on stream `cluster-crash` crashes the thread (an
// uncaught error) before anything of it is written.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const on = parentPort.on.bind(parentPort);
parentPort.on = (event, listener) =>
  on(event, (request) => {
    if (request.type === 'commit' && request.ops.some((op) => op.streamId === 'cluster-crash')) throw new Error('writer crashed (test)');
    listener(request);
  });
await import('./writer-worker.ts');
