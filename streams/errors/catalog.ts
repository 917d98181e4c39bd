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
  NC_KEY_MISSING: { status: 500, summary: 'Personal data was written for an event without a tenant id to encrypt it with.' },
  NC_MASTER_KEY_INVALID: { status: 500, summary: 'NOVACRON_MASTER_KEY (or <dataDir>/master.key) is not 32 bytes given as 64 hex characters or base64.' },
  NC_MASTER_KEY_MISMATCH: { status: 500, summary: 'The key store cannot unwrap its data keys: the master key is not the one the store was created with.' },
  NC_DATA_KEY_NOT_FOUND: { status: 500, summary: 'Personal data is encrypted for a tenant that has no data key in this key store (wrong tenant or wrong key store).' },
  NC_CIPHERTEXT_INVALID: { status: 500, summary: 'An encrypted personal-data token is malformed or fails authentication (altered, truncated, or moved to another tenant).' },
  NC_CONFIG_INVALID: { status: 500, summary: 'A NOVACRON_* setting has a value NovaCron cannot use; the message names the variable.' },
  NC_STORE_CLOSED: { status: 503, summary: 'The event store was closed; retry against a running instance.' },
  NC_STORE_UNAVAILABLE: { status: 503, summary: 'The event store could not be reached or written; retry later.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof errorCatalog;
