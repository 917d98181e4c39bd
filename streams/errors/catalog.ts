/**
 * The one catalog of NovaCron's stable error codes. Every error the platform
 * reports carries one of these codes; the HTTP API renders them as
 * `{ error: { code, message, details } }` with the status given here, and a
 * test checks that each code is documented in the README.
 */
export const errorCatalog = {
  NC_VALIDATION: { status: 400, summary: 'The input does not match the expected shape; details name the field.' },
  NC_STREAM_ID_INVALID: { status: 400, summary: 'A stream id is not of the form <category>-<id> or holds forbidden characters.' },
  NC_EVENT_TYPE_UNKNOWN: { status: 400, summary: 'An event type is not in the catalog under schemas/avro.' },
  NC_EVENT_INVALID: { status: 400, summary: 'An event does not match its Avro schema; details list the offending paths.' },
  NC_EVENT_TOO_LARGE: { status: 413, summary: 'An event (data and metadata) is larger than 1 MiB.' },
  NC_REVISION_CONFLICT: { status: 409, summary: 'The stream is not at the expected revision; details carry the actual revision.' },
  NC_IDEMPOTENCY_MISMATCH: { status: 409, summary: 'Event ids already stored were sent again in another stream or order.' },
  NC_STREAM_DELETED: { status: 410, summary: 'The stream was tombstoned (hard-deleted) and can never be written again.' },
  // Domain errors raised by the deciders in commands/.
  NC_NOT_FOUND: { status: 404, summary: 'The tenant, VM, node, region or cluster does not exist; details name the entity and id.' },
  NC_ALREADY_EXISTS: { status: 409, summary: 'The entity (or a reservation id) already exists; details name the entity and id.' },
  NC_INVALID_STATE: { status: 409, summary: 'The command is not allowed in the current state; details give the state and the allowed states.' },
  NC_QUOTA_EXCEEDED: { status: 422, summary: "The tenant's quota cannot cover the request; details name the dimension, requested and available." },
  NC_CAPACITY_EXHAUSTED: { status: 422, summary: "The node's capacity cannot cover the request; details name the dimension, requested and available." },
  NC_TENANT_SUSPENDED: { status: 409, summary: 'The tenant is suspended and cannot reserve quota until it is reactivated.' },
  NC_REGION_NOT_ALLOWED: { status: 422, summary: "The region is not in the tenant's allowed regions (data residency); details list them." },
  NC_REGION_RETIRED: { status: 409, summary: 'The region is retired: it takes no placements and no updates.' },
  // HTTP API (api/): framework, auth and idempotency failures.
  NC_MALFORMED_JSON: { status: 400, summary: 'The body is not valid JSON (or is empty) although Content-Type says application/json.' },
  NC_JSON_TOO_DEEP: { status: 400, summary: 'The JSON body nests arrays and objects deeper than 32 levels; details give the limit.' },
  NC_BAD_REQUEST: { status: 400, summary: 'The HTTP request itself is malformed (bad URL encoding, bad Content-Length, unparsable request line).' },
  NC_UNAUTHENTICATED: { status: 401, summary: 'No valid credentials: send Authorization: Bearer <JWT> or X-API-Key; the message says what was wrong (missing, invalid, expired, revoked).' },
  NC_FORBIDDEN: { status: 403, summary: "The principal's role may not call this route; details give the role and the roles allowed." },
  NC_RATE_LIMITED: { status: 429, summary: 'Too many requests from this tenant (or operator, or address): its token bucket (NOVACRON_RATE_LIMIT_RATE per second, bursts of NOVACRON_RATE_LIMIT_BURST) is empty; or too many failed authentications from this address or for this API key. Retry-After says when to try again, details give the key and the limit.' },
  NC_ROUTE_NOT_FOUND: { status: 404, summary: 'No route matches the method and path.' },
  NC_REQUEST_TIMEOUT: { status: 408, summary: 'The client did not send the whole request in time.' },
  NC_PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body is larger than 1 MiB.' },
  NC_UNSUPPORTED_MEDIA_TYPE: { status: 415, summary: 'The request body is not sent as application/json.' },
  NC_IDEMPOTENCY_KEY_REUSED: { status: 422, summary: 'The Idempotency-Key was already used by this principal for a different request (method, URL or body).' },
  NC_HEADERS_TOO_LARGE: { status: 431, summary: 'The request headers are larger than the server accepts.' },
  NC_INTERNAL: { status: 500, summary: 'An unexpected error; it is logged with the correlation id, the message is generic.' },
  NC_SHUTTING_DOWN: { status: 503, summary: 'This instance is shutting down and takes no new requests; retry (Retry-After), another instance will answer.' },
  NC_KEY_MISSING: { status: 500, summary: 'Personal data was written for an event without a tenant id to encrypt it with.' },
  NC_MASTER_KEY_INVALID: { status: 500, summary: 'NOVACRON_MASTER_KEY (or <dataDir>/master.key) is not 32 bytes given as 64 hex characters or base64.' },
  NC_MASTER_KEY_MISMATCH: { status: 500, summary: 'The key store cannot unwrap its data keys: the master key is not the one the store was created with.' },
  NC_DATA_KEY_NOT_FOUND: { status: 500, summary: 'Personal data is encrypted for a tenant that has no data key in this key store (wrong tenant or wrong key store).' },
  NC_DATA_KEY_DESTROYED: { status: 409, summary: "The tenant's data keys were destroyed when it was deleted: there is no key to rotate or use." },
  NC_CIPHERTEXT_INVALID: { status: 500, summary: 'An encrypted personal-data token is malformed or fails authentication (altered, truncated, or moved to another tenant).' },
  NC_CONFIG_INVALID: { status: 500, summary: 'A NOVACRON_* setting has a value NovaCron cannot use; the message names the variable.' },
  NC_SAGA_EXPIRED: { status: 503, summary: 'A multi-step command (VM creation) outlived its reservations and was undone; retry it.' },
  NC_PROJECTION_LAGGING: { status: 503, summary: 'A consistency=session query timed out waiting for the projection to apply the write it named; retry after Retry-After.' },
  NC_STORE_CLOSED: { status: 503, summary: 'The event store was closed; retry against a running instance.' },
  NC_REPLAY_REFUSED: { status: 409, summary: 'A replay built a generation that parked more events, or holds far fewer rows, than the live one; it was not switched in (the live one keeps serving). `novacron replay --force` switches anyway.' },
  NC_KEY_SHREDDING_FAILED: { status: 503, summary: "A deleted tenant's data key could not be destroyed yet; the key-shredding processor retries with backoff and shows the error in its status until it is." },
  NC_STORE_UNAVAILABLE: { status: 503, summary: 'The event store could not be reached or written; retry later.' },
  // Kafka, the schema registry and the relay (streams/kafka, connectors/relay).
  NC_KAFKA_UNAVAILABLE: { status: 503, summary: 'Kafka or the schema registry could not be reached or failed a request; the relay retries with backoff.' },
  NC_KAFKA_TOPIC_MISMATCH: { status: 500, summary: 'A NovaCron topic is missing, or exists with other partitions or replication factor than configured; the message names the topic.' },
  NC_SCHEMA_INCOMPATIBLE: { status: 500, summary: "The schema registry refused an event schema as not BACKWARD compatible with its subject's versions; the message names the schema and subject." },
  NC_SCHEMA_MISMATCH: { status: 500, summary: "A schema id resolves to another schema than the one it stands for: a Kafka record whose writer schema is not the type its `type` header names (or not under its topic's subject) is parked, not applied; the relay refuses to start on such an id (a registry that lost its schemas)." },
  NC_RELAY_DIVERGED: { status: 500, summary: 'The Kafka topics hold an event the event store does not (topics of another store, or a store restored from an older backup); the relay stops rather than skip or duplicate.' },
  NC_RELAY_RUNNING: { status: 500, summary: 'Another relay already publishes this event store (its PID is in <data dir>/relay.<prefix>.lock); run one relay per event store.' },
  // ClickHouse (streams/clickhouse): the analytics projection's store.
  NC_CLICKHOUSE_UNAVAILABLE: { status: 503, summary: 'ClickHouse could not be reached or failed a statement; the analytics processor retries with backoff and shows the error in its status.' },
  NC_ANALYTICS_DISABLED: { status: 404, summary: 'The analytics routes read ClickHouse, and this instance has none: set NOVACRON_CLICKHOUSE_URL (`npm start` then runs the analytics projection too; `--role api` only reads it).' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof errorCatalog;
