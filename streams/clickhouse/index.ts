export { clickhouseTlsOptions, clickhouseUnavailable, endpointOf, openClickHouse, serverCodeOf, type ClickHouse, type ClickHouseOptions, type ClickHouseRow } from './client.ts';
export { IDENTIFIER_PATTERN, sqlIdentifier, sqlInteger, sqlString, sqlStringList, toClickHouseString } from './escape.ts';
export { countParked, migrateStateTables, readCheckpoint, openClickHouseStateStore, type ClickHouseStateOptions, type ClickHouseStateStore, type ClickHouseTable, type ClickHouseWriter } from './state.ts';
export { compactState, compactionFloor, pendingStateMutations, type CompactionResult, type CompactionSchedule } from './compaction.ts';
