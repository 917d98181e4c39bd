export { createRelay, relayTransactionalId, type BatchReport, type Relay, type RelayOptions, type RelayState, type RelayStatus } from './relay.ts';
export { createRelayFromSettings, kafkaClients, relayLockPath } from './from-settings.ts';
export { registerRelayMetrics } from './metrics.ts';
export { planResume, RESUME_WINDOW, resumeAfter, type ResumePlan } from './resume.ts';
export { formatKafkaStatus, readKafkaStatus, type KafkaStatus, type TopicStatus } from './status.ts';
export { acquireRelayLock, type RelayLock } from './lock.ts';
