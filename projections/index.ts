import { capacityForecastProjection } from './capacity-forecast/projection.ts';
import { inventoryProjection } from './inventory/index.ts';
import { routingProjection } from './routing/index.ts';
import { shardMapProjection } from './shard-map/index.ts';
import type { AnySqliteProjection } from '../streams/processing/projection.ts';

/**
 * Every projection of the embedded default, in one place. The platform's
 * projection host runs each (one processor, one SQLite file) and the API reads
 * them; `novacron replay <name>` rebuilds one.
 */
export const embeddedProjections: AnySqliteProjection[] = [
  inventoryProjection,
  shardMapProjection,
  routingProjection,
  capacityForecastProjection,
];
