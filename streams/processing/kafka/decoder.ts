import type { KafkaMessage } from 'kafkajs';
import type { Catalog } from '../../catalog/index.ts';
import type { EventCodec, RecordedEvent } from '../../eventstore/index.ts';
import { fromHeaders, headerOf, type EventSerde } from '../../kafka/index.ts';

/** How a processor reads the records of the category topics. */
export interface KafkaEventDecoder {
  /** The event type a record carries (its `type` header), undefined when absent. */
  typeOf(message: KafkaMessage): string | undefined;
  /**
   * The whole event: Avro decoded against the registry, resolved to the catalog's schema, personal data decrypted.
   * A record whose schema id resolves to another type than its `type` header (or is not under `topic`'s subject
   * for it) is refused with NC_SCHEMA_MISMATCH, which the runner parks.
   */
  event(message: KafkaMessage, topic?: string): Promise<RecordedEvent>;
  /** The event without its data, from the headers alone (for the types a processor does not apply). */
  envelope(message: KafkaMessage): RecordedEvent;
}

/**
 * Reads records as the relay writes them (streams/kafka/serde.ts): the serde
 * resolves the data to the catalog's current schema, still as stored (personal
 * fields encrypted); the event store's codec then decrypts them (or redacts
 * them, once the tenant's key is destroyed), as a read from the store would.
 */
export function createKafkaEventDecoder({ serde, codec, catalog }: { serde: EventSerde; codec: EventCodec; catalog: Catalog }): KafkaEventDecoder {
  return {
    typeOf: (message) => headerOf(message.headers, 'type'),
    async event(message, topic) {
      const event = await serde.decode(message, topic);
      return { ...event, data: codec.decode(event.type, event.data, catalog.version(event.type), event.metadata.tenantId) };
    },
    envelope: (message) => ({ ...fromHeaders(message.headers), data: {} }),
  };
}
