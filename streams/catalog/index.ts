export {
  defaultCatalog,
  defaultSchemasDir,
  EVENT_NAMESPACE,
  loadCatalog,
  type Catalog,
} from './catalog.ts';
export { createEventCodec, type EventCodecOptions } from './codec.ts';
export { mapPersonal, personalPaths } from './personal.ts';
export type { AvroField, AvroSchema, EventSchema } from './schema.ts';
export { validationIssues, type ValidationIssue } from './validate.ts';
