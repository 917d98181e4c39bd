/**
 * Immutable helpers for the `Record<string, V>` maps held in aggregate state
 * (plain JSON, so states can be snapshotted). Ids come from outside: own-key
 * checks keep an id such as `__proto__` or `constructor` from reading the prototype.
 */
export const lookup = <V>(record: Readonly<Record<string, V>>, key: string): V | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined;

export const withEntry = <V>(record: Readonly<Record<string, V>>, key: string, value: V): Record<string, V> => ({ ...record, [key]: value });

export const withoutEntry = <V>(record: Readonly<Record<string, V>>, key: string): Record<string, V> =>
  Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
