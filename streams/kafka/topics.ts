/**
 * NovaCron's Kafka topics: one per group of stream categories, keyed by stream
 * id so that each stream's events stay in order in one partition.
 *
 * | topic                         | stream categories                    |
 * | `<prefix>.tenant.events`      | tenant, audit, fleetaudit            |
 * | `<prefix>.vm.events`          | vm                                   |
 * | `<prefix>.capacity.events`    | node, region, cluster, forecast      |
 *
 * Forecasts (`forecast-<regionId>`, CapacityShortfallForecast) ride on the
 * capacity topic: they are few, derived from node capacity, and read by the
 * same consumers as node and region events; a topic of their own would add a
 * topic to create and watch for a handful of events a day. The audit trail
 * (AuditRecorded: `audit-<tenantId>`, `fleetaudit-log`) rides on the tenant
 * topic for the same reason: a few events a day, about tenants' credentials.
 */
import { Partitioners } from 'kafkajs';
import { NovaCronError } from '../errors/index.ts';
import { EVENT_NAMESPACE } from '../catalog/index.ts';
import { parseStreamId } from '../eventstore/stream-id.ts';

export const TOPIC_KEYS = ['tenant', 'vm', 'capacity'] as const;
export type TopicKey = (typeof TOPIC_KEYS)[number];

export const TOPIC_CATEGORIES: Readonly<Record<TopicKey, readonly string[]>> = {
  tenant: ['tenant', 'audit', 'fleetaudit'],
  vm: ['vm'],
  capacity: ['node', 'region', 'cluster', 'forecast'],
};

/**
 * The event types each topic carries: their schemas are registered on the
 * topic's subjects up front (`novacron kafka init`, relay start). A test checks
 * every type of the catalog is in exactly one topic. An event of another type
 * on a topic still goes through: its subject is registered on first use.
 */
export const TOPIC_EVENT_TYPES: Readonly<Record<TopicKey, readonly string[]>> = {
  tenant: ['TenantCreated', 'TenantQuotaChanged', 'TenantSuspended', 'TenantReactivated', 'TenantDeleted', 'QuotaReserved', 'QuotaCommitted', 'QuotaReleased', 'AuditRecorded'],
  vm: [
    'VmCreated', 'VmStarted', 'VmStopped', 'VmRestarted', 'VmPaused', 'VmResumed', 'VmResized',
    'VmMigrationStarted', 'VmMigrationCompleted', 'VmMigrationFailed', 'VmSnapshotTaken', 'VmDeleted', 'VmFailed',
  ],
  capacity: [
    'NodeRegistered', 'NodeCapacityChanged', 'NodeCordoned', 'NodeUncordoned', 'NodeDrainStarted', 'NodeFailed', 'NodeDecommissioned',
    'CapacityReserved', 'CapacityCommitted', 'CapacityReleased',
    'RegionAdded', 'RegionUpdated', 'RegionRetired',
    'ClusterJoined', 'ClusterLeft', 'ClusterHealthReported',
    'CapacityShortfallForecast',
  ],
};

export const topicName = (prefix: string, key: TopicKey): string => `${prefix}.${key}.events`;

/** Every topic of `prefix`, in TOPIC_KEYS order. */
export const topicNames = (prefix: string): string[] => TOPIC_KEYS.map((key) => topicName(prefix, key));

const keyOfCategory = new Map<string, TopicKey>(TOPIC_KEYS.flatMap((key) => TOPIC_CATEGORIES[key].map((c) => [c, key] as const)));

/** The topic a stream's events go to. Throws NC_STREAM_ID_INVALID for a category no topic carries. */
export function topicOf(prefix: string, streamId: string): string {
  const { category } = parseStreamId(streamId);
  const key = keyOfCategory.get(category);
  if (key === undefined) {
    throw new NovaCronError('NC_STREAM_ID_INVALID', `stream ${streamId}: category ${JSON.stringify(category)} has no Kafka topic (see streams/kafka/topics.ts)`, {
      details: { streamId, category },
    });
  }
  return topicName(prefix, key);
}

/**
 * Subject of an event type's schemas on a topic, TopicRecordNameStrategy:
 * `<topic>-novacron.events.<Type>`. One topic carries many event types, so the
 * default TopicNameStrategy (`<topic>-value`, one schema lineage per topic) does not fit.
 */
export const subjectOf = (topic: string, type: string): string => `${topic}-${EVENT_NAMESPACE}.${type}`;

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition of a key among `partitions`: murmur2 of the key, as Kafka's
 * Java client and kafkajs's default partitioner compute it, so any producer
 * agrees with the relay on where a stream lives.
 */
export function partitionOf(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitionOf: partitions must be a positive integer, got ${partitions}`);
  let partitionMetadata = metadataOf.get(partitions);
  if (partitionMetadata === undefined) {
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
    metadataOf.set(partitions, partitionMetadata);
  }
  return partitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}

const metadataOf = new Map<number, { partitionId: number; leader: number; replicas: number[]; isr: number[]; partitionErrorCode: number }[]>();
