/**
 * A tenant id as it appears in `tenant-<id>` stream ids: letters, digits and
 * `._:@-`, so that the stream id stays within 200 characters. (Kept free of
 * TypeBox so the CLI loads fast; the schema is in params.ts.)
 */
export const TENANT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,192}$';
