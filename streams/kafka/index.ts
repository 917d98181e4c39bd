export { consoleLog, createJsonLog, createKafkaClient, createSchemaRegistry, kafkaLogLevel, kafkaUnavailable, silentLog, talking, type KafkaClientOptions, type Log } from './client.ts';
export { EVENT_HEADERS, fromHeaders, headerOf, toHeaders, type EventHeaders } from './headers.ts';
export { describeTopics, ensureTopics, initKafka, topicConfig, type InitReport, type TopicLayout, type TopicReport } from './init.ts';
export { createRegistrySchemas, type RegisteredSubject, type RegistrySchemas, type RegistrySchemasOptions } from './schemas.ts';
export { createEventSerde, type EncodedEvent, type EventSerde, type EventSerdeOptions } from './serde.ts';
export { DEFAULT_PARTITIONS, DEFAULT_REPLICATION, DEFAULT_TOPIC_PREFIX, TOPIC_PREFIX_PATTERN, type KafkaSettings } from './settings.ts';
export { readTails, type PartitionTail, type ReadTailsOptions } from './tails.ts';
export { partitionOf, subjectOf, TOPIC_CATEGORIES, TOPIC_EVENT_TYPES, TOPIC_KEYS, topicName, topicNames, topicOf, type TopicKey } from './topics.ts';
