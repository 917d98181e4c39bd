import { mapPersonal, type Catalog } from '../../streams/catalog/index.ts';
import { REDACTED } from '../../streams/crypto/index.ts';

/**
 * The event's data with every personal field (the catalog's `personalFields`)
 * replaced by `[redacted]`, the marker crypto-shredded fields read as. Empty
 * strings and nulls stay as they are (they reveal nothing).
 */
export function redactPersonal(catalog: Catalog, type: string, data: Record<string, unknown>): Record<string, unknown> {
  if (!catalog.has(type)) return data;
  return mapPersonal(data, catalog.personalFields(type), (value) => (value === '' ? value : REDACTED));
}
