import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { silentLog, type Log } from '../../streams/kafka/index.ts';
import type { InvalidationBus, InvalidationListener } from './bus.ts';
import { createRedisClient, watchConnection } from './redis-client.ts';
import { createRedisL2Store } from './redis-l2-store.ts';
import { DEFAULT_REDIS_PREFIX, decodeInvalidation, encodeInvalidation, invalidationChannel } from './redis-protocol.ts';

export interface RedisInvalidationBusOptions {
  /** A connection string (the bus opens and closes its own connection) … */
  url?: string;
  /** … or a connection of the caller's (left open by `close`), e.g. createRedisClient's. */
  client?: Redis;
  /** Key prefix of the L2 cache the bus evicts from, and of the channel: `<prefix>.invalidations`. */
  prefix?: string;
  /** The channel, when it is not `<prefix>.invalidations`. */
  channel?: string;
  /** Per-command timeout of a connection the bus opens from `url`. */
  timeoutMs?: number;
  /** CLIENT SETNAME of the subscriber connection. */
  subscriberName?: string;
  /** After a failed publish, how long until the first attempt to flush (then doubling, up to 5 s). */
  retryMs?: number;
  /** Longest a publish waits for the connection to be ready before it counts as failed. */
  connectWaitMs?: number;
  /**
   * How often the subscriber connection is PINGed (default 5 s); one not answered within
   * `heartbeatTimeoutMs` (default 2 s) is dropped and reopened, which empties the caches as
   * any lost subscription does. Without it a connection that died silently (a proxy's idle
   * timeout, a failover behind a virtual IP) would leave the caches deaf to invalidations.
   */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  log?: Log;
}

/** Totals since the bus was created (exported as metrics by api/metrics/invalidation-metrics.ts). */
export interface RedisBusStats {
  /** Invalidations (and flushes) this bus published to Redis. */
  published: number;
  /** Publishes that failed (Redis down or slow): each leads to a flush once Redis answers again. */
  publishErrors: number;
  /** L2 entries deleted by this bus's invalidations. */
  l2Evicted: number;
  /** Epochs this bus started (flushing L2 and every subscriber) after failed publishes. */
  l2Flushes: number;
  /** Messages from other buses delivered to the listeners. */
  delivered: number;
  /** Messages on the channel that are not invalidations, ignored. */
  ignored: number;
  /** Times the listeners were told to drop everything: subscription lost or (re)established, or a flush message. */
  resets: number;
}

export interface RedisInvalidationBus extends InvalidationBus {
  /** This bus's id: the `origin` of what it publishes (its own messages are delivered locally, not again from Redis). */
  readonly origin: string;
  readonly channel: string;
  /** Resolves true once the subscription is live, false after `timeoutMs`. */
  whenLive(timeoutMs: number): Promise<boolean>;
  /**
   * Before this process's projection commits anything: `checkpoint` is where it
   * starts. If Redis has not applied the invalidations up to it (a previous run
   * committed batches it never published, and stopped), L2 and every L1 are
   * flushed, as after a failed publish. Resolves once checked (or failed, then
   * the flush is retried).
   */
  resumeFrom(checkpoint: number): Promise<void>;
  /** Resolves once every publish so far has been sent to Redis (or has failed). */
  idle(): Promise<void>;
  stats(): RedisBusStats;
}

interface Subscriber {
  listener: InvalidationListener;
  onFlush: (() => void) | undefined;
}

/**
 * The invalidation bus over Redis pub/sub, for API instances and processors
 * in separate processes.
 *
 * `publish` delivers to this process's listeners at once (as the in-process
 * bus does: a local commit has evicted the local cache before the session
 * reads waiting for it go on), then, in one Lua script, deletes the L2
 * entries carrying the tags and PUBLISHes the message (redis-l2-store.ts).
 * Publishes are sent one after the other, in commit order.
 *
 * Subscribing opens a dedicated connection. Pub/sub is at most once: while
 * that connection is lost, messages are lost. So the listeners are flushed
 * (`onFlush`) when it closes and again once the subscription is back, and
 * `live` is false in between (caches store nothing then). A message that is
 * not an invalidation is logged and ignored.
 *
 * When a publish fails (Redis down or slow), the invalidation may have reached
 * neither L2 nor the other processes: the bus then retries with a flush —
 * a new L2 epoch and a flush message to every subscriber — until Redis takes it.
 */
export function createRedisInvalidationBus({
  url,
  client: given,
  prefix = DEFAULT_REDIS_PREFIX,
  channel = invalidationChannel(prefix),
  timeoutMs = 250,
  subscriberName,
  retryMs = 100,
  connectWaitMs = 1000,
  heartbeatMs = 5000,
  heartbeatTimeoutMs = 2000,
  log = silentLog,
}: RedisInvalidationBusOptions): RedisInvalidationBus {
  if ((url === undefined) === (given === undefined)) throw new TypeError('createRedisInvalidationBus: pass either url or client');
  if (channel === '') throw new TypeError('createRedisInvalidationBus: channel must not be empty');
  const client = given ?? createRedisClient(url as string, { timeoutMs, connectionName: 'novacron:invalidations', log });
  const l2 = createRedisL2Store(client, prefix);
  const origin = randomUUID();
  const stats: RedisBusStats = { published: 0, publishErrors: 0, l2Evicted: 0, l2Flushes: 0, delivered: 0, ignored: 0, resets: 0 };
  const subscribers = new Set<Subscriber>();
  let closed = false;
  /** close() was called: what is queued is tried once more, without waiting for a connection. */
  let closing = false;

  // ── local delivery ──────────────────────────────────────────────────────
  function deliver(tags: readonly string[], through: number | undefined): void {
    for (const { listener } of [...subscribers]) {
      try {
        listener(tags, through);
      } catch (error) {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'an invalidation listener failed');
      }
    }
  }
  function reset(why: string): void {
    stats.resets++;
    log.info({ channel, why }, 'cache flushed: invalidations may have been lost');
    for (const { onFlush } of [...subscribers]) {
      try {
        onFlush?.();
      } catch (error) {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'an invalidation flush listener failed');
      }
    }
  }

  // ── publishing, in order ────────────────────────────────────────────────
  let chain: Promise<void> = Promise.resolve();
  /** Set after a failed publish: nothing more is published until a flush goes through. */
  let dirty = false;
  /** Highest checkpoint published so far: a flush raises L2's `through` to it. */
  let highest: number | undefined;
  let retry: NodeJS.Timeout | undefined;
  let retryDelay = retryMs;

  const enqueue = (work: () => Promise<void>): void => {
    chain = chain.then(work, work);
  };
  /**
   * A publish waits (bounded) for the connection to be ready rather than fail
   * at once: a process that commits as it starts, or while its connection is
   * being re-established, does not flush everyone's caches for that.
   */
  const connectWaiters = new Set<() => void>();
  function connected(): Promise<void> {
    if (client.status === 'ready' || closing) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        connectWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, connectWaitMs);
      client.on('ready', done);
      connectWaiters.add(done);
    });
  }
  function failed(error: unknown, what: string): void {
    stats.publishErrors++;
    if (!dirty) log.warn({ channel, err: error instanceof Error ? error.message : String(error) }, `${what} failed: L2 and the other caches will be flushed once Redis answers`);
    dirty = true;
    scheduleFlush();
  }
  function scheduleFlush(): void {
    if (retry !== undefined || closed) return;
    retry = setTimeout(() => {
      retry = undefined;
      enqueue(flushRemote);
    }, retryDelay);
    retry.unref();
    retryDelay = Math.min(retryDelay * 2, 5000);
  }
  async function flushRemote(): Promise<void> {
    if (!dirty || closed) return;
    try {
      await connected();
      await l2.flush(highest, channel, encodeInvalidation(highest === undefined ? { origin, flush: true } : { origin, flush: true, through: highest }));
      dirty = false;
      retryDelay = retryMs;
      stats.l2Flushes++;
      stats.published++;
      log.info({ channel }, 'L2 cache and subscribers flushed after failed invalidations');
    } catch (error) {
      failed(error, 'flushing after a failed invalidation');
    }
  }

  // ── Redis restarts ──────────────────────────────────────────────────────
  /**
   * A Redis that restarted (or a replica promoted in its place) may have lost
   * the last invalidations and `through`, or come back from a snapshot with
   * entries since evicted: every L2 entry is suspect. The server's run_id tells
   * a restart from a reconnection to the same server.
   */
  let serverRunId: string | undefined;
  function checkServer(): void {
    enqueue(async () => {
      if (closed) return;
      let runId: string | undefined;
      try {
        runId = /^run_id:(\w+)/m.exec(await client.info('server'))?.[1];
      } catch {
        return; // Not answering: asked again on the next reconnection.
      }
      const restarted = serverRunId !== undefined && runId !== serverRunId;
      serverRunId = runId;
      if (!restarted) return;
      log.warn({ channel }, 'Redis restarted or failed over: flushing L2 and the other caches');
      dirty = true;
      await flushRemote();
    });
  }
  client.on('ready', checkServer);
  if (client.status === 'ready') checkServer();

  // ── subscribing ─────────────────────────────────────────────────────────
  let subscriber: Redis | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let live = false;
  let liveWaiters: Array<(live: boolean) => void> = [];

  function onMessage(from: string, raw: string): void {
    if (from !== channel) return;
    const decoded = decodeInvalidation(raw);
    if ('error' in decoded) {
      stats.ignored++;
      log.warn({ channel, reason: decoded.error, message: raw.slice(0, 200) }, 'ignored a message on the invalidation channel that is not an invalidation');
      return;
    }
    const { message } = decoded;
    // Ours: delivered locally when published.
    if (message.origin === origin) return;
    stats.delivered++;
    if ('flush' in message) reset('flush message');
    else deliver(message.tags, message.through);
  }

  function openSubscriber(): Redis {
    const connection = client.duplicate({ autoResubscribe: false, lazyConnect: false, ...(subscriberName === undefined ? {} : { connectionName: subscriberName }) });
    watchConnection(connection, log, subscriberName ?? 'novacron:invalidations:subscriber');
    connection.on('message', onMessage);
    connection.on('ready', () => {
      connection.subscribe(channel).then(
        () => {
          if (closed || connection.status !== 'ready') return;
          live = true;
          reset('subscribed');
          const waiting = liveWaiters;
          liveWaiters = [];
          for (const resolve of waiting) resolve(true);
        },
        (error: unknown) => {
          log.warn({ channel, err: error instanceof Error ? error.message : String(error) }, 'subscribing to the invalidation channel failed; retrying on reconnect');
          connection.disconnect(true);
        },
      );
    });
    connection.on('close', () => {
      if (!live) return;
      live = false;
      if (!closed) reset('subscription lost');
    });
    heartbeat = setInterval(() => {
      if (!live || connection.status !== 'ready') return;
      const reopen = (why: string) => {
        if (closed || connection.status !== 'ready') return;
        log.warn({ channel, why }, 'the invalidation subscriber did not answer a PING; reconnecting');
        connection.disconnect(true);
      };
      const late = setTimeout(() => reopen(`no answer within ${heartbeatTimeoutMs} ms`), heartbeatTimeoutMs);
      connection.ping().then(
        () => clearTimeout(late),
        (error: unknown) => {
          clearTimeout(late);
          reopen(error instanceof Error ? error.message : String(error));
        },
      );
    }, heartbeatMs);
    heartbeat.unref();
    return connection;
  }

  return {
    origin,
    channel,
    publish(tags, through) {
      if (closed || (tags.length === 0 && through === undefined)) return;
      deliver(tags, through);
      if (through !== undefined) highest = Math.max(highest ?? through, through);
      const tagsNow = [...tags];
      // Decided when its turn comes, not now: while a flush is on its way it does not stand for this
      // invalidation (it was sent with an older `highest`), so this goes out after it. Still dirty by
      // then: the flush queued after this one, sent with `highest` as it is then, stands for it.
      enqueue(async () => {
        if (closed || dirty) return;
        try {
          await connected();
          stats.l2Evicted += await l2.evict(tagsNow, through, channel, encodeInvalidation(through === undefined ? { origin, tags: tagsNow } : { origin, tags: tagsNow, through }));
          stats.published++;
        } catch (error) {
          failed(error, 'publishing an invalidation');
        }
      });
    },
    subscribe(listener, onFlush) {
      const entry: Subscriber = { listener, onFlush };
      subscribers.add(entry);
      if (subscriber === undefined && !closed) subscriber = openSubscriber();
      return () => {
        subscribers.delete(entry);
      };
    },
    get live() {
      return live;
    },
    whenLive(timeoutMs) {
      if (live) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (now: boolean) => {
          clearTimeout(timer);
          resolve(now);
        };
        const timer = setTimeout(() => {
          liveWaiters = liveWaiters.filter((w) => w !== done);
          resolve(live);
        }, timeoutMs);
        liveWaiters.push(done);
      });
    },
    resumeFrom(checkpoint) {
      if (closed || checkpoint <= 0) return Promise.resolve();
      // A flush raises `through` to `highest`: the projection's checkpoint at least.
      highest = Math.max(highest ?? checkpoint, checkpoint);
      return new Promise((resolve) => {
        enqueue(async () => {
          try {
            if (closed || dirty) return;
            await connected();
            if ((await l2.through()) >= checkpoint) return;
            log.warn({ channel, checkpoint }, 'the projection is past the invalidations Redis has applied (a previous run stopped before publishing them): flushing L2 and the other caches');
            dirty = true;
            await flushRemote();
          } catch (error) {
            failed(error, 'checking the invalidations Redis has applied');
          } finally {
            resolve();
          }
        });
      });
    },
    idle: () => chain,
    stats: () => ({ ...stats }),
    async close() {
      if (closed) return;
      // What was published before close still goes out if Redis is there (bounded by the command timeout).
      closing = true;
      for (const done of [...connectWaiters]) done();
      await chain;
      closed = true;
      live = false;
      client.off('ready', checkServer);
      clearTimeout(retry);
      subscribers.clear();
      for (const resolve of liveWaiters) resolve(false);
      liveWaiters = [];
      clearInterval(heartbeat);
      subscriber?.disconnect();
      if (given === undefined) await client.quit().catch(() => client.disconnect());
    },
  };
}
