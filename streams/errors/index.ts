export { errorCatalog, type ErrorCode } from './catalog.ts';
export { NovaCronError, isNovaCronError, type NovaCronErrorOptions } from './errors.ts';
