import type { ContractCapabilities } from '../contract/suite.ts';

/**
 * What the EventStoreDB adapter cannot promise that the SQLite store does
 * (the contract suite then checks the weaker promise):
 *
 * - gapless positions: positions are ESDB's log offsets, strictly increasing
 *   with gaps. Code that needs "the next position" uses `position + 1` as an
 *   inclusive start, or `afterPosition`, never `position + 1` as an event;
 *   lag in positions (`head - checkpoint`) is in bytes of log, not events.
 * - event ids unique across streams: ESDB recognises an id only within its
 *   stream, so ids already stored in one stream are stored again if sent to
 *   another one.
 */
export const ESDB_CAPABILITIES: ContractCapabilities = {
  gaplessPositions: false,
  uniqueEventIdsAcrossStreams: false,
};
