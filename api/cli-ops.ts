/** `novacron replay <projection>` and `novacron status`: operating the projections from a shell. */
import { SingleBar, Presets } from 'cli-progress';
import type { ProjectionStatus } from '../streams/processing/host.ts';
import { loadJwtSecret } from './auth/jwt-secret.ts';
import { signToken } from './auth/tokens.ts';
import { loadConfig, type Config } from './config.ts';
import { openPlatform } from './platform.ts';
import { runningServers } from './running-servers.ts';
import { recordCliAudit } from './cli-audit.ts';

/** A processor's line of `novacron status`. */
type Row = Pick<ProjectionStatus, 'name' | 'generation' | 'version' | 'checkpoint' | 'head' | 'lag' | 'parked' | 'state'>;

export function formatStatus<R extends Row>(rows: readonly R[]): string {
  const header = ['processor', 'generation', 'checkpoint', 'head', 'lag', 'parked', 'state'];
  const lines = rows.map((r) => [r.name, `g${r.generation} (v${r.version})`, String(r.checkpoint), String(r.head), String(r.lag), String(r.parked), r.state]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  return [header, ...lines].map((cols) => cols.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()).join('\n');
}

/**
 * What the servers running on this data dir say of the processors they run
 * (`novacron start` announces itself under <data dir>/running): the API's
 * GET /v1/admin/processors (with an operator token signed here), a processor
 * role's /healthz. A server that does not answer within 3 s is skipped.
 */
async function processorsOfRunningServers(config: Config): Promise<Map<string, Row & { pid: number }>> {
  const found = new Map<string, Row & { pid: number }>();
  for (const server of runningServers(config.dataDir)) {
    try {
      let rows: Row[];
      if (server.role === 'processor') {
        const answer = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(3_000) });
        rows = ((await answer.json()) as { processors?: Row[] }).processors ?? [];
      } else {
        const secret = loadJwtSecret({ value: config.jwtSecret, dataDir: config.dataDir });
        const token = signToken(secret, { subject: 'novacron-status', role: 'operator', ttlSeconds: 60, issuer: config.jwt.issuer, audience: config.jwt.audience });
        const answer = await fetch(`${server.url}/v1/admin/processors`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3_000) });
        if (!answer.ok) continue;
        rows = ((await answer.json()) as { processors: Row[] }).processors;
      }
      for (const row of rows) if (row.state !== 'idle') found.set(row.name, { ...row, pid: server.pid });
    } catch {
      // Not answering (starting, stopping): what its files hold is shown instead.
    }
  }
  return found;
}

/**
 * Lists each processor with its checkpoint, lag and parked events: as the
 * server running it on this data dir reports it (state `running (pid N)`), else
 * read from the projection files (and ClickHouse for analytics).
 */
export async function status(): Promise<number> {
  const config = loadConfig();
  // Runs nothing: every processor shows what its store holds (analytics read-only, as on a `--role api` instance).
  const platform = openPlatform(config, { analytics: 'read' });
  try {
    const live = await processorsOfRunningServers(config);
    const rows = (await platform.projections.status()).map((r): Row => {
      const running = live.get(r.name);
      if (running) return { ...r, ...running, state: `${running.state} (pid ${running.pid})` as never };
      return { ...r, state: r.state === 'idle' ? ('not running here' as never) : r.state };
    });
    console.log(rows.length === 0 ? 'no projections' : formatStatus(rows));
    return 0;
  } finally {
    await platform.close();
  }
}

/**
 * Rebuilds one projection into a new generation from the start of the log
 * while the current one keeps serving (here or in a running server), then
 * switches. A progress bar on a terminal; plain periodic lines otherwise.
 */
export async function replay(name: string | undefined, { interactive = process.stdout.isTTY === true, force = false } = {}): Promise<number> {
  const platform = openPlatform(loadConfig());
  try {
    if (!name || !platform.projections.names.includes(name)) {
      console.error(`novacron replay: name one of: ${platform.projections.names.join(', ') || '(no projections)'}`);
      return 2;
    }
    const started = performance.now();
    let last = 0;
    const bar = interactive
      ? new SingleBar({ format: `${name} [{bar}] {percentage}% | {value}/{total} events | {rate} ev/s | ETA {eta_formatted}`, hideCursor: true }, Presets.shades_classic)
      : null;
    let barStarted = false;
    const result = await platform.projections.replay(name, {
      force,
      onProgress(done, total) {
        const seconds = (performance.now() - started) / 1000;
        const rate = Math.round(done / Math.max(seconds, 0.001));
        if (bar) {
          if (!barStarted) {
            bar.start(total, 0, { rate: 0 });
            barStarted = true;
          }
          bar.update(done, { rate });
        } else if (performance.now() - last > 2000 || done === total) {
          last = performance.now();
          const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
          console.log(`replay ${name}: ${done}/${total} events, ${rate} events/s, ETA ${eta}s`);
        }
      },
    });
    bar?.stop();
    await recordCliAudit(platform.store, { action: 'projection.replayed', tenantId: null, target: name, details: `generation ${result.generation}, ${result.events} events${force ? ', --force' : ''}` });
    console.log(`replay ${name}: generation ${result.generation} is active (${result.events} events in ${result.seconds.toFixed(1)}s)`);
    return 0;
  } finally {
    await platform.close();
  }
}
