import type { ProjectionHost, ProjectionStatus } from './projection-host.ts';

/**
 * One ProjectionHost over several, each projection answered by the host that
 * has it: the API on the scale-out log runs some projections embedded and
 * reads others that processors fed from Kafka write.
 */
export function combineProjectionHosts(hosts: readonly ProjectionHost[]): ProjectionHost {
  const byName = new Map<string, ProjectionHost>();
  for (const host of hosts) {
    for (const name of host.names) {
      if (byName.has(name)) throw new TypeError(`combineProjectionHosts: projection ${JSON.stringify(name)} is in two hosts`);
      byName.set(name, host);
    }
  }
  const names = [...byName.keys()];
  const of = (name: string): ProjectionHost => {
    const host = byName.get(name);
    if (!host) throw new RangeError(`unknown projection ${JSON.stringify(name)} (known: ${names.join(', ')})`);
    return host;
  };
  return {
    names,
    async start() {
      for (const host of hosts) await host.start();
    },
    async stop() {
      const results = await Promise.allSettled(hosts.map((host) => host.stop()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    queries: <Queries>(name: string) => of(name).queries<Queries>(name),
    ordering: (name) => of(name).ordering(name),
    waitFor: (name, position, timeoutMs) => of(name).waitFor(name, position, timeoutMs),
    waitForStream: (name, streamId, revision, timeoutMs) => of(name).waitForStream(name, streamId, revision, timeoutMs),
    checkpoint: (name) => of(name).checkpoint(name),
    async status(): Promise<ProjectionStatus[]> {
      const all = (await Promise.all(hosts.map((host) => host.status()))).flat();
      return names.map((name) => all.find((s) => s.name === name)).filter((s): s is ProjectionStatus => s !== undefined);
    },
    replay: (name, options) => of(name).replay(name, options),
  };
}
