export { createAnalyticsHost, rawLog, type AnalyticsHostOptions } from './host.ts';
export { ANALYTICS, createAnalyticsProjection, type AnalyticsProjection } from './projection.ts';
export { createAnalyticsQueries, type AnalyticsQueries, type CapacityHour, type VmHours, type VmHoursTotal, type VmInterval } from './queries.ts';
export { CAPACITY_HOURLY, EVENTS, VM_HOURS_VIEW, VM_STATE_INTERVALS, migrateAnalytics } from './tables.ts';
