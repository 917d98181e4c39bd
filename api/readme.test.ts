import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../streams/errors/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'data' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mjs|sh)$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('README stays true', () => {
  it('opens with the set-up commands', () => {
    const firstBlock = readme.slice(readme.indexOf('```'), readme.indexOf('```', readme.indexOf('```') + 3));
    expect(firstBlock).toMatch(/npm install[\s\S]*npm start[\s\S]*npm test/);
  });

  it('documents every error code', () => {
    const missing = Object.keys(errorCatalog).filter((code) => !readme.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('documents every NOVACRON_* setting the code reads', () => {
    const used = new Set<string>();
    for (const file of ['api', 'streams', 'commands', 'projections', 'connectors', 'infra', 'bin'].flatMap((d) => {
      try {
        return sources(join(root, d));
      } catch {
        return [];
      }
    })) {
      for (const match of readFileSync(file, 'utf8').matchAll(/NOVACRON_[A-Z0-9_]+/g)) used.add(match[0]);
    }
    expect(used.size).toBeGreaterThan(0);
    const missing = [...used].filter((name) => !readme.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});
