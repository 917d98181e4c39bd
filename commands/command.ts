/** What every command carries besides its data. */
export interface CommandMetadata {
  /** ISO-8601 instant the command is decided at: deciders never read a clock. */
  now: string;
}

/**
 * Every command has one shape: `{ type, data, metadata: { now } }`. Ids the
 * decider would otherwise generate (reservationId, migrationId, snapshotId …)
 * are in `data`.
 */
export interface Command<Type extends string, Data> {
  type: Type;
  data: Data;
  metadata: CommandMetadata;
}
