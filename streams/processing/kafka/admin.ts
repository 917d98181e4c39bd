import type { Admin, Kafka } from 'kafkajs';

/**
 * A Kafka admin client (for watermarks and lag) connected on first use, and
 * again on the next use after a failed connect; `close` disconnects it if it
 * was opened.
 */
export function lazyAdmin(kafka: Kafka) {
  let admin: Promise<Admin> | null = null;
  return {
    get(): Promise<Admin> {
      if (admin === null) {
        const connecting = (async () => {
          const a = kafka.admin();
          await a.connect();
          return a;
        })();
        connecting.catch(() => {
          if (admin === connecting) admin = null;
        });
        admin = connecting;
      }
      return admin;
    },
    async close(): Promise<void> {
      if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
      admin = null;
    },
  };
}
