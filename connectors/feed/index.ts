export { createOwnership, type Ownership } from './ownership.ts';
export { redactPersonal } from './privacy.ts';
export { pumpFeed, type PumpOptions } from './pump.ts';
export { loadFeedSettings, DEFAULT_HEARTBEAT_MS, HEARTBEAT_VARIABLE, type FeedSettings } from './settings.ts';
export { commentFrame, eventFrame, HEARTBEAT, type FeedMessage } from './sse.ts';
