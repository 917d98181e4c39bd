export type * from './port.ts';
export { WrongExpectedRevisionError, StreamDeletedError, isWrongExpectedRevision, expectationHolds } from './errors.ts';
export { parseStreamId, categoryOf, streamIdOf, MAX_STREAM_ID_LENGTH } from './stream-id.ts';
export { newEventId, isEventId, MAX_EVENT_BYTES } from './new-event.ts';
export { createAggregateCache, loadAggregate, rememberAppended, type AggregateCache, type AggregateOptions, type LoadedAggregate } from './aggregate.ts';
export { parseTraceparent, isTraceparent, newTraceparent, continueTrace, type TraceContext } from './traceparent.ts';
