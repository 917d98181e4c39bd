/** `novacron kafka init` and `novacron kafka status` (dispatched from api/cli.ts). */
import type { EventStore } from '../../streams/eventstore/index.ts';
import { initKafka, type KafkaSettings } from '../../streams/kafka/index.ts';
import { kafkaClients } from './from-settings.ts';
import { formatKafkaStatus, readKafkaStatus } from './status.ts';

/** Creates the topics (idempotent; a topic with other settings is NC_KAFKA_TOPIC_MISMATCH) and registers every schema. */
export async function kafkaInit(settings: KafkaSettings, say: (line: string) => void = (line) => console.log(line)): Promise<number> {
  const { kafka, schemas } = kafkaClients(settings, { clientId: 'novacron-init' });
  const report = await initKafka({ kafka, schemas, prefix: settings.topicPrefix, partitions: settings.partitions, replication: settings.replication });
  for (const t of report.topics) {
    say(`topic ${t.topic}: ${t.created ? 'created' : 'exists'} (${t.partitions} partitions, replication factor ${t.replication})`);
  }
  const versions = report.subjects.reduce((sum, s) => sum + s.ids.size, 0);
  say(`schemas: ${report.subjects.length} subjects <topic>-novacron.events.<Type> (compatibility BACKWARD), ${versions} schema versions registered`);
  return 0;
}

export async function kafkaStatus(settings: KafkaSettings, store: EventStore, say: (line: string) => void = (line) => console.log(line)): Promise<number> {
  const { kafka } = kafkaClients(settings, { clientId: 'novacron-status' });
  say(formatKafkaStatus(await readKafkaStatus({ kafka, store, topicPrefix: settings.topicPrefix })));
  return 0;
}
