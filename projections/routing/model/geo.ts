import type { GeoPoint } from './types.ts';

/** IUGG mean Earth radius. */
export const EARTH_RADIUS_KM = 6371.0088;

const RAD = Math.PI / 180;

/** Great-circle distances from one point, its trigonometry computed once (the hot path of routing). */
export function distancesFrom(origin: GeoPoint): (to: GeoPoint) => number {
  const lat = origin.lat * RAD;
  const cosLat = Math.cos(lat);
  const { lon } = origin;
  return (to) => {
    const toLat = to.lat * RAD;
    const sinLat = Math.sin((toLat - lat) / 2);
    const sinLon = Math.sin(((to.lon - lon) * RAD) / 2);
    const h = sinLat * sinLat + cosLat * Math.cos(toLat) * sinLon * sinLon;
    return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, h)));
  };
}

/** Great-circle distance on a sphere (haversine formula); within ~0.5% of the ellipsoidal distance. */
export const haversineKm = (a: GeoPoint, b: GeoPoint): number => distancesFrom(a)(b);
