import type { Server } from 'node:http';

/** Starts `server` on host:port (0: a free port) and resolves with its URL, e.g. `http://127.0.0.1:9465` (IPv6 in brackets). */
export function listen(server: Server, host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const at = typeof address === 'object' && address ? address : { address: host, port };
      resolve(`http://${at.address.includes(':') ? `[${at.address}]` : at.address}:${at.port}`);
    });
  });
}
