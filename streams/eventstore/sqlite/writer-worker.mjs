// Entry of the event store's writer thread. A worker does not inherit the
// loader its parent registered (tsx under `npm start`, vite under vitest), so
// it registers tsx itself before loading the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./writer-worker.ts');
