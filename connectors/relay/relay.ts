/**
 * The relay: tails the event store's global log and publishes every event to
 * its Kafka topic, exactly once, in order. It keeps no checkpoint of its own:
 * on every (re)start it works out from the last record of each partition where
 * it stopped (see resume.ts for the scheme and why it is exact).
 *
 * Events are read as stored (`raw: true`): personal fields travel encrypted.
 * One batch is in flight at a time (what the subscription has buffered, up to
 * `maxBatch` events and about `maxBatchBytes`), sent as one Kafka transaction
 * (its chunks, then a commit) by a transactional producer with a stable
 * transactional.id (`<topicPrefix>.relay`), acks from all in-sync replicas.
 * A failed send is treated as a crash: the producer is dropped and the relay
 * resumes from Kafka after a backoff. Each session first fences the previous
 * one (InitProducerId bumps the producer epoch: the old producer can no longer
 * write or commit, and its open transaction is aborted) and only then reads
 * the tails, so a request of an earlier session that lands late (a timed-out
 * send, a killed process) can never add records after them.
 *
 * The schema registry is needed only at a session's start: the schemas are
 * registered (or looked up) and every id is checked to resolve to the schema it
 * stands for; records are then encoded locally. A registry that is down is
 * NC_KAFKA_UNAVAILABLE (retried with backoff); an id that resolves to another
 * schema is NC_SCHEMA_MISMATCH, and the relay refuses to run.
 */
import { Partitioners, type Admin, type Kafka, type Message, type Producer, type Transaction } from 'kafkajs';
import { NovaCronError } from '../../streams/errors/index.ts';
import type { EventStore, RecordedEvent, Subscription } from '../../streams/eventstore/index.ts';
import {
  createEventSerde,
  describeTopics,
  partitionOf,
  readTails,
  silentLog,
  talking,
  topicNames,
  type EncodedEvent,
  type Log,
  type RegistrySchemas,
} from '../../streams/kafka/index.ts';
import { isRetriable } from '../../streams/processing/retriable.ts';
import { withTimeout } from '../../streams/processing/wait-until.ts';
import { acquireRelayLock, type RelayLock } from './lock.ts';
import { planResume, RESUME_WINDOW, resumeAfter, type ResumePlan } from './resume.ts';

/**
 * `disconnected`: running, but the brokers did not answer the last reachability
 * probe (status() asks them, within `probeTimeoutMs`); the relay itself only
 * finds out when its next send times out, which can take many seconds.
 */
export type RelayState = 'idle' | 'resuming' | 'running' | 'disconnected' | 'retrying' | 'failed' | 'stopped';

export interface RelayStatus {
  state: RelayState;
  topicPrefix: string;
  /** Highest position known to be in Kafka (found on resume, then each acknowledged batch). */
  published: number;
  /** Last position of the event store's log. */
  head: number;
  /** head − published: events not yet in Kafka. */
  lag: number;
  /** Since this relay started: events sent, per topic; batches sent; resumes from Kafka. */
  sent: Record<string, number>;
  batches: number;
  resumes: number;
  /**
   * The last error (the relay retries retriable ones; any other stops it: state 'failed');
   * while `disconnected`, why the brokers are taken to be unreachable (NC_KAFKA_UNAVAILABLE).
   */
  lastError: { code: string; message: string } | null;
}

export interface BatchReport {
  first: number;
  last: number;
  /** Events sent in this batch (events of the window already in Kafka are skipped). */
  sent: number;
  skipped: number;
  published: number;
}

export interface RelayOptions {
  store: EventStore;
  kafka: Kafka;
  schemas: RegistrySchemas;
  topicPrefix: string;
  /** Most events per batch (one produce request per broker); at most RESUME_WINDOW. */
  maxBatch?: number;
  /** A batch is cut once its encoded records pass this many bytes. */
  maxBatchBytes?: number;
  /** Exponential backoff, with jitter, between attempts after a retriable failure. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Lock file held while running (one relay per event store); none when unset. */
  lockPath?: string;
  log?: Log;
  /** After each acknowledged batch. */
  onBatch?: (report: BatchReport) => void;
  /** When the relay stops for good on an error it cannot retry. */
  onFailed?: (error: unknown) => void;
  /**
   * Longest status() waits for the brokers' answer to a metadata request while
   * running (default 2000 ms); no answer in time reports state `disconnected`.
   * An answer is reused for `probeEveryMs` (default 1000), so a metrics scrape
   * asking status() for every gauge probes once.
   */
  probeTimeoutMs?: number;
  probeEveryMs?: number;
}

export interface Relay {
  readonly topicPrefix: string;
  /** Starts publishing in the background (takes the lock first; throws NC_RELAY_RUNNING if held). */
  start(): Promise<void>;
  /** Lets the batch in flight finish, then stops. */
  stop(): Promise<void>;
  status(): Promise<RelayStatus>;
}

/** The relay's transactional.id: stable per topic prefix (one relay per event store and prefix, see lock.ts). */
export const relayTransactionalId = (topicPrefix: string): string => `${topicPrefix}.relay`;

const describe = (error: unknown): { code: string; message: string } => ({
  code: (error as { code?: unknown } | null)?.code !== undefined ? String((error as { code: unknown }).code) : error instanceof Error ? error.name : 'Error',
  message: error instanceof Error ? error.message : String(error),
});

export function createRelay({
  store,
  kafka,
  schemas,
  topicPrefix,
  maxBatch = 2000,
  maxBatchBytes = 1024 * 1024,
  backoff: { initialMs = 500, maxMs = 30_000 } = {},
  lockPath,
  log = silentLog,
  onBatch,
  onFailed,
  probeTimeoutMs = 2_000,
  probeEveryMs = 1_000,
}: RelayOptions): Relay {
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > RESUME_WINDOW) {
    throw new RangeError(`createRelay: maxBatch must be an integer from 1 to ${RESUME_WINDOW} (the resume window), got ${maxBatch}`);
  }
  if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 1024) throw new RangeError('createRelay: maxBatchBytes must be an integer ≥ 1024');
  if (!(initialMs > 0 && maxMs >= initialMs)) throw new RangeError('createRelay: backoff needs 0 < initialMs ≤ maxMs');

  const serde = createEventSerde({ schemas, topicPrefix });
  const transactionalId = relayTransactionalId(topicPrefix);
  const topics = topicNames(topicPrefix);
  let state: RelayState = 'idle';
  let published = 0;
  let batches = 0;
  let resumes = 0;
  const sent: Record<string, number> = Object.fromEntries(topics.map((t) => [t, 0]));
  let lastError: { code: string; message: string } | null = null;
  let stopping = false;
  let loop: Promise<void> | null = null;
  let subscription: Subscription | null = null;
  let lock: RelayLock | null = null;
  let renewal: NodeJS.Timeout | null = null;
  let wakeSleep: (() => void) | null = null;
  // Reachability probes: one admin client without retries, kept between probes and
  // dropped after a failure (the next probe connects afresh).
  let probeAdmin: Admin | null = null;
  let probe: { at: number; answer: Promise<string | null> } | null = null;

  /** null when the brokers answered a metadata request within probeTimeoutMs, else why not. */
  async function unreachable(): Promise<string | null> {
    const now = performance.now();
    if (probe === null || now - probe.at >= probeEveryMs) {
      probe = {
        at: now,
        answer: (async () => {
          try {
            const admin = (probeAdmin ??= kafka.admin({ retry: { retries: 0 } }));
            await withTimeout(
              (async () => {
                await admin.connect();
                await admin.describeCluster();
              })(),
              probeTimeoutMs,
            );
            return null;
          } catch (error) {
            const admin = probeAdmin;
            probeAdmin = null;
            void admin?.disconnect().catch(() => undefined);
            return `the brokers did not answer a metadata request within ${probeTimeoutMs} ms (${error instanceof Error ? error.message : String(error)}); the relay publishes again once they do`;
          }
        })(),
      };
    }
    return probe.answer;
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeSleep = null;
        resolve();
      }
      wakeSleep = done;
    });

  /** Partition counts, read from Kafka; a missing topic is an error that needs `novacron kafka init`. */
  async function partitionCounts(): Promise<Map<string, number>> {
    const admin = kafka.admin();
    await talking('connecting to Kafka', () => admin.connect());
    try {
      const layouts = await describeTopics(admin, topics);
      const missing = topics.filter((t) => !layouts.has(t));
      if (missing.length > 0) {
        throw new NovaCronError('NC_KAFKA_TOPIC_MISMATCH', `topic ${missing.join(', ')} does not exist: run \`novacron kafka init\` first (topics are created up front)`, {
          details: { topics: missing },
        });
      }
      return new Map([...layouts.values()].map((l) => [l.topic, l.partitions]));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** The highest record in Kafka must be this store's event at that position. */
  async function checkSameLog(plan: ResumePlan): Promise<void> {
    if (plan.highest === 0) return;
    const [event] = await store.readAll({ fromPosition: plan.highest, maxCount: 1, raw: true });
    if (event?.position !== plan.highest || event.metadata.eventId !== plan.highestEventId) {
      throw new NovaCronError(
        'NC_RELAY_DIVERGED',
        `the topics of prefix ${topicPrefix} hold event ${plan.highestEventId} at position ${plan.highest}, but the event store ${event?.position === plan.highest ? `has ${event.metadata.eventId} there` : 'has no event there'}: they belong to another event store (use another NOVACRON_KAFKA_TOPIC_PREFIX), or the store was restored from an older backup`,
        { details: { topicPrefix, position: plan.highest, kafkaEventId: plan.highestEventId, storeEventId: event?.position === plan.highest ? event.metadata.eventId : null } },
      );
    }
  }

  async function send(producer: Transaction, records: EncodedEvent[], partitions: readonly number[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    records.forEach((record, i) => {
      let messages = byTopic.get(record.topic);
      if (messages === undefined) byTopic.set(record.topic, (messages = []));
      messages.push({ key: record.key, value: record.value, partition: partitions[i] as number, headers: record.headers, timestamp: record.timestamp });
    });
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await talking('publishing a batch to Kafka', () => producer.sendBatch({ topicMessages, acks: -1, timeout: 30_000 }));
    for (const { topic, messages } of topicMessages) sent[topic] = (sent[topic] ?? 0) + messages.length;
  }

  interface Prepared {
    first: number;
    last: number;
    skipped: number;
    /** Records to send, in chunks of about maxBatchBytes, each with its partitions. */
    chunks: { records: EncodedEvent[]; partitions: number[] }[];
  }

  /** Encodes one batch of consecutive events, leaving out those already in Kafka. */
  async function prepare(batch: readonly RecordedEvent[], plan: ResumePlan | null, partitionsOf: Map<string, number>): Promise<Prepared> {
    let skipped = 0;
    const chunks: Prepared['chunks'] = [];
    let chunk: Prepared['chunks'][number] = { records: [], partitions: [] };
    let bytes = 0;
    for (const event of batch) {
      const topic = serde.topicOf(event.streamId);
      const partition = partitionOf(event.streamId, partitionsOf.get(topic) ?? 1);
      if (plan !== null && plan.isPublished(event.position, topic, partition)) {
        skipped++;
        continue;
      }
      const record = await serde.encode(event);
      chunk.records.push(record);
      chunk.partitions.push(partition);
      bytes += record.value.length + record.key.length + 400;
      if (bytes >= maxBatchBytes) {
        chunks.push(chunk);
        chunk = { records: [], partitions: [] };
        bytes = 0;
      }
    }
    if (chunk.records.length > 0) chunks.push(chunk);
    return { first: (batch[0] as RecordedEvent).position, last: (batch[batch.length - 1] as RecordedEvent).position, skipped, chunks };
  }

  /**
   * Sends a prepared batch as one transaction: chunk after chunk, each
   * acknowledged before the next, then the commit. On a failure the
   * transaction is aborted if that can be done quickly; otherwise the next
   * session's fence aborts it.
   */
  async function publish(producer: Producer, prepared: Prepared): Promise<void> {
    let count = 0;
    if (prepared.chunks.length > 0) {
      const transaction = await talking('beginning a transaction', () => producer.transaction());
      try {
        for (const { records, partitions } of prepared.chunks) {
          await send(transaction, records, partitions);
          count += records.length;
        }
        await talking('committing a batch to Kafka', () => transaction.commit());
      } catch (error) {
        if (transaction.isActive()) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            transaction.abort().catch(() => undefined),
            new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000))),
          ]);
          clearTimeout(timer);
        }
        throw error;
      }
    }
    published = Math.max(published, prepared.last);
    batches++;
    lastError = null;
    onBatch?.({ first: prepared.first, last: prepared.last, sent: count, skipped: prepared.skipped, published });
  }

  /** One run: resume from Kafka, then publish until stopped; throws on failure. */
  async function session(): Promise<void> {
    state = 'resuming';
    const producer = kafka.producer({
      transactionalId,
      transactionTimeout: 60_000,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Short first retries: right after a commit the coordinator answers the next
      // transaction's AddPartitionsToTxn with CONCURRENT_TRANSACTIONS until the markers are written.
      retry: { retries: 12, initialRetryTime: 10, maxRetryTime: 5_000 },
    });
    // While a batch is in flight the next one is read and encoded; it is sent
    // only once the one in flight is acknowledged (one batch in flight at a time).
    let inFlight: Promise<void> = Promise.resolve();
    let mine: Subscription | null = null;
    try {
      const partitionsOf = await partitionCounts(); // first: a missing topic is a clear error, not a retry
      // Fence before reading the tails: kafkajs' producer.connect() does not (it takes a
      // plain idempotent producer id); the first transaction() sends InitProducerId with the
      // transactional.id, which bumps the epoch, fences the previous session's producer and
      // aborts its open transaction (returning once the abort markers are written). The
      // empty transaction is ended at once, without a request.
      await Promise.all([
        (async () => {
          await talking('connecting the producer', () => producer.connect());
          const fence = await talking('fencing the previous relay session (InitProducerId)', () => producer.transaction());
          await talking('fencing the previous relay session (InitProducerId)', () => fence.abort());
        })(),
        // Every id this session will write must stand for its schema (NC_SCHEMA_MISMATCH otherwise:
        // a registry that lost its schemas); asked afresh each session, the ids cached included.
        (async () => schemas.verify(await schemas.registerAll(topicPrefix)))(),
      ]);
      const tails = await readTails(kafka, topics, { groupPrefix: `${topicPrefix}.relay.tails` });
      let plan: ResumePlan | null = planResume(tails);
      await checkSameLog(plan);
      // The last record of each partition must still decode as its type: a registry that lost its
      // schemas and was filled again has given their ids to other schemas (NC_SCHEMA_MISMATCH).
      await schemas.verifyRecords(
        tails.flatMap(({ topic, partition, last }) =>
          last?.schemaId !== undefined && last.type !== undefined && last.schemaVersion !== undefined
            ? [{ schemaId: last.schemaId, type: last.type, schemaVersion: last.schemaVersion, where: `the last record of ${topic} partition ${partition} (position ${last.position})` }]
            : [],
        ),
      );
      const afterPosition = await resumeAfter(store, plan.highest);
      published = plan.highest;
      resumes++;
      log.info({ topicPrefix, published: plan.highest, rereadAfter: afterPosition }, 'relay resumed from the last records in Kafka');
      if (stopping) return;
      const events$ = store.subscribeToAll({ afterPosition, raw: true, batchSize: maxBatch });
      mine = subscription = events$;
      const events = events$[Symbol.asyncIterator]();
      state = 'running';
      while (!stopping) {
        const next = await events.next();
        if (next.done === true) break;
        // The event, and what the subscription has buffered after it: at most maxBatch (≤ RESUME_WINDOW) consecutive events.
        const batch: RecordedEvent[] = [next.value];
        if (events$.takeBuffered !== undefined) batch.push(...events$.takeBuffered(maxBatch - 1));
        while (events$.buffered > 0 && batch.length < maxBatch) {
          const more = await events.next();
          if (more.done === true) break;
          batch.push(more.value);
        }
        const prepared = await prepare(batch, plan, partitionsOf);
        // Past the highest position found in Kafka: nothing more to skip.
        if (plan !== null && prepared.last >= plan.highest) plan = null;
        await inFlight;
        inFlight = publish(producer, prepared);
        // A failed send ends this subscription (waking a wait for new events); it is thrown below or before the next send.
        inFlight.catch(() => events$.stop());
      }
      await inFlight;
    } finally {
      await inFlight.catch(() => undefined); // never leave a send running into the next session
      await mine?.stop();
      if (subscription === mine) subscription = null;
      await producer.disconnect().catch(() => undefined);
    }
  }

  async function run(): Promise<void> {
    let attempt = 0;
    while (!stopping) {
      const batchesBefore = batches;
      try {
        await session();
        return;
      } catch (error) {
        if (stopping) return;
        lastError = describe(error);
        if (!isRetriable(error)) {
          state = 'failed';
          log.error({ err: error, topicPrefix }, 'relay stopped: an error it cannot retry');
          onFailed?.(error);
          return;
        }
        attempt = batches > batchesBefore ? 1 : attempt + 1;
        const ceiling = Math.min(maxMs, initialMs * 2 ** (attempt - 1));
        const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
        state = 'retrying';
        log.warn({ err: error, topicPrefix, attempt, delayMs: delay }, 'relay failed; resuming from Kafka after a backoff');
        await sleep(delay);
      }
    }
  }

  return {
    topicPrefix,
    async start() {
      if (loop !== null) return;
      if (lockPath !== undefined) {
        lock = acquireRelayLock(lockPath);
        const held = lock;
        renewal = setInterval(() => {
          try {
            held.renew();
          } catch (error) {
            log.warn({ err: error, lockPath }, 'could not renew the relay lock');
          }
        }, 5_000);
        renewal.unref();
      }
      stopping = false;
      loop = run().finally(() => {
        if (state !== 'failed') state = 'stopped';
        if (renewal) clearInterval(renewal);
        renewal = null;
        lock?.release();
        lock = null;
      });
    },
    async stop() {
      stopping = true;
      wakeSleep?.();
      await subscription?.stop();
      await loop;
      loop = null;
      state = state === 'failed' ? 'failed' : 'stopped';
      const admin = probeAdmin;
      probeAdmin = null;
      probe = null;
      await admin?.disconnect().catch(() => undefined);
    },
    async status() {
      const head = await store.headPosition();
      // While running, the state follows the brokers' reachability, not only the last send.
      const why = state === 'running' ? await unreachable() : null;
      const shown: RelayState = why !== null && state === 'running' ? 'disconnected' : state;
      const error = why !== null && state === 'running' ? { code: 'NC_KAFKA_UNAVAILABLE', message: why } : lastError;
      return { state: shown, topicPrefix, published, head, lag: Math.max(0, head - published), sent: { ...sent }, batches, resumes, lastError: error };
    },
  };
}
