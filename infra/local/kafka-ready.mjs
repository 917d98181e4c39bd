/* global process, console, setTimeout */
// Readiness probe for infra/local/kafka: exits 0 when a kafkajs metadata request
// to the broker(s) in argv[2] (host:port[,host:port]) succeeds, 1 otherwise.
// With --warm it then has the coordinators loaded (up to 60 s): the group coordinator
// (creates __consumer_offsets) and a producer id for an idempotent producer (creates
// __transaction_state). Without it, the first consumer group and the first idempotent
// producer of a fresh broker log "The coordinator is loading" and retry.
import { Kafka, logLevel } from 'kafkajs';

const brokers = (process.argv[2] ?? '').split(',').filter(Boolean);
const warm = process.argv.includes('--warm');
if (brokers.length === 0) {
  console.error('usage: node kafka-ready.mjs host:port[,host:port]');
  process.exit(2);
}
const kafka = new Kafka({
  clientId: 'novacron-infra-ready',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 5000,
  retry: { retries: 0 },
});
const admin = kafka.admin();
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.fetchTopicMetadata({ topics: [] });
  if (warm) {
    const deadline = Date.now() + 60_000;
    const untilOk = async (what) => {
      for (;;) {
        try {
          return await what();
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    };
    await untilOk(() => admin.describeGroups(['novacron-infra-ready']));
    await untilOk(async () => {
      // (an idempotent producer refuses a client without retries)
      const producer = new Kafka({ clientId: 'novacron-infra-ready', brokers, logLevel: logLevel.NOTHING, retry: { retries: 5 } })
        .producer({ idempotent: true, maxInFlightRequests: 1 });
      try {
        await producer.connect(); // idempotent: connect asks for a producer id
      } finally {
        await producer.disconnect().catch(() => {});
      }
    });
  }
  console.log(`kafka ready: cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s), controller ${cluster.controller}`);
  await admin.disconnect();
  process.exit(0);
} catch (err) {
  console.error(`kafka not ready: ${err instanceof Error ? err.message : String(err)}`);
  await admin.disconnect().catch(() => {});
  process.exit(1);
}
