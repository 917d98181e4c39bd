import { describe, expect, it } from 'vitest';
import { EARTH_RADIUS_KM, haversineKm } from './geo.ts';

const london = { lat: 51.5074, lon: -0.1278 };
const newYork = { lat: 40.7128, lon: -74.006 };
const paris = { lat: 48.8566, lon: 2.3522 };
const sydney = { lat: -33.8688, lon: 151.2093 };
const losAngeles = { lat: 34.0522, lon: -118.2437 };
const tokyo = { lat: 35.6762, lon: 139.6503 };
const singapore = { lat: 1.3521, lon: 103.8198 };

describe('haversineKm', () => {
  it.each([
    ['London', london, 'New York', newYork, 5570],
    ['London', london, 'Paris', paris, 344],
    ['Sydney', sydney, 'Los Angeles', losAngeles, 12_051],
    ['Tokyo', tokyo, 'Singapore', singapore, 5_312],
  ])('%s – %s ≈ %i km within 1%', (_a, a, _b, b, km) => {
    expect(Math.abs(haversineKm(a, b) - (km as number)) / (km as number)).toBeLessThan(0.01);
  });

  it('is symmetric, zero for one point, and half the circumference for antipodes', () => {
    expect(haversineKm(london, newYork)).toBeCloseTo(haversineKm(newYork, london), 9);
    expect(haversineKm(paris, paris)).toBe(0);
    expect(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 6);
    expect(haversineKm({ lat: 90, lon: 0 }, { lat: -90, lon: 0 })).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 6);
    expect(haversineKm({ lat: 10, lon: 179.5 }, { lat: 10, lon: -179.5 })).toBeLessThan(120); // across the date line
  });
});
