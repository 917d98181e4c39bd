import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedChildEnv } from './testing/child-env.ts';
import { startCliServer, type CliServer } from './testing/cli-server.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The `sh` code blocks of the README's "The first hour" section, as written. */
function walkthroughBlocks(): string[] {
  const start = readme.indexOf('\n## The first hour\n');
  expect(start, 'README has a "The first hour" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

function runBash(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: CliServer | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'novacron-first-hour-'));
afterAll(async () => {
  await server?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('README: the first hour', () => {
  it('every command of the walkthrough runs against a fresh npm start and does what the text says', async () => {
    const [start, ...blocks] = walkthroughBlocks();
    expect(start?.trim()).toBe('npm start');
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    const env = { NOVACRON_DATA_DIR: dataDir, NOVACRON_PORT: '0', NOVACRON_SQLITE_SYNC: 'normal', NOVACRON_LOG_LEVEL: 'warn' };
    server = await startCliServer(env, { via: 'npm' });
    // The README's address is the default port; this server listens on a free one.
    const script = ['set -euo pipefail', ...blocks].join('\n').replaceAll('http://127.0.0.1:8080', server.url);
    expect(script).toContain(server.url);

    const run = await runBash(script, embeddedChildEnv(env));
    expect(run.code, `walkthrough failed\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);

    const out = run.stdout;
    const vmId = /^VM (\S+)$/m.exec(out)?.[1];
    expect(vmId).toMatch(/^[0-9a-f-]{36}$/);
    const answers = out.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    // region, cluster, 2 nodes, tenant, 7 lifecycle steps, 5 queries, regions, API key
    expect(answers.length).toBeGreaterThanOrEqual(19);
    const vmAnswers = answers.filter((a) => a.id === vmId);
    const states = vmAnswers.map((a) => a.state);
    expect(states.slice(0, 7)).toEqual(['paused', 'running', 'stopped', 'stopped', 'running', 'running', 'running']);
    const [resized, migrated] = [vmAnswers[3]!, vmAnswers[5]!];
    expect(resized).toMatchObject({ vcpus: 4, memoryMiB: 8192, diskGiB: 40 });
    expect(migrated.nodeId).not.toBe(vmAnswers[0]!.nodeId);
    expect(vmAnswers[6]).toHaveProperty('snapshotId');
    const tenant = answers.find((a) => (a.tenant as { id?: string } | undefined)?.id === 'acme' && !('streamId' in a));
    expect(tenant?.tenant).toMatchObject({ usage: { vms: 1, vcpus: 4, memoryMiB: 8192, diskGiB: 40 } });
    expect(answers.find((a) => Array.isArray(a.routes))).toMatchObject({ tenantId: 'acme' });
    expect(answers.find((a) => a.key === vmId)).toMatchObject({ region: 'eu-west', source: 'vm' });
    expect(answers.find((a) => typeof a.key === 'string' && a.key.startsWith('nck_'))).toMatchObject({ role: 'tenant-user', tenantId: 'acme' });
    // The feed printed the VM's history.
    for (const type of ['VmCreated', 'VmStarted', 'VmPaused', 'VmResized', 'VmMigrationCompleted', 'VmSnapshotTaken']) {
      expect(out).toContain(`event: ${type}\n`);
    }
  }, 240_000);
});
