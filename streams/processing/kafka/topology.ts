import { TOPIC_EVENT_TYPES, TOPIC_KEYS, topicName } from '../../kafka/index.ts';

/**
 * The category topics a processor reads: those carrying at least one of the
 * event types it handles. Throws for a handled type no topic carries (a type
 * missing from streams/kafka/topics.ts would otherwise never arrive).
 */
export function topicsFor(name: string, handles: readonly string[], topicPrefix: string): string[] {
  const wanted = new Set(handles);
  const carried = new Set(TOPIC_KEYS.flatMap((key) => TOPIC_EVENT_TYPES[key]));
  const orphans = [...wanted].filter((type) => !carried.has(type));
  if (orphans.length > 0) throw new TypeError(`processor ${name} handles ${orphans.join(', ')}, which no Kafka topic carries (streams/kafka/topics.ts)`);
  return TOPIC_KEYS.filter((key) => TOPIC_EVENT_TYPES[key].some((type) => wanted.has(type))).map((key) => topicName(topicPrefix, key));
}

/** The consumer group of one generation of a processor: `<prefix>.<name>.g<generation>`. */
export const groupIdOf = (prefix: string, name: string, generation: number): string => `${prefix}.${name}.g${generation}`;

export const DEFAULT_GROUP_PREFIX = 'novacron.processor';
