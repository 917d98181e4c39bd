import { afterEach, describe, expect, it } from 'vitest';
import { isNovaCronError } from '../../streams/errors/index.ts';
import {
  capacityCommitted,
  capacityReserved,
  nodeCordoned,
  nodeRegistered,
  openInventory,
  quotaCommitted,
  quotaReserved,
  regionAdded,
  regionRetired,
  tenantCreated,
  tenantSuspended,
  vmCreated,
  vmDeleted,
  vmStarted,
  type Inventory,
} from './testing.ts';

let inventory: Inventory;
afterEach(async () => inventory?.close());

const ids = (page: { items: Array<{ vmId: string }> }) => page.items.map((v) => v.vmId);

describe('inventory queries', () => {
  it('listVms: filters by tenant, node, region and state; deleted VMs only when asked for', async () => {
    inventory = openInventory();
    await inventory.apply(
      regionAdded('eu-west'),
      regionAdded('us-east'),
      vmCreated('a1', { tenantId: 'acme', nodeId: 'n1', regionId: 'eu-west' }),
      vmCreated('a2', { tenantId: 'acme', nodeId: 'n2', regionId: 'eu-west' }),
      vmCreated('a3', { tenantId: 'acme', nodeId: 'n3', regionId: 'us-east' }),
      vmCreated('g1', { tenantId: 'globex', nodeId: 'n1', regionId: 'eu-west' }),
      vmStarted('a2', 'n2'),
      vmDeleted('a3', 'acme', 'n3'),
    );
    const q = inventory.queries;
    expect(ids(q.listVms({}))).toEqual(['a1', 'a2', 'g1']);
    expect(ids(q.listVms({ tenantId: 'acme' }))).toEqual(['a1', 'a2']);
    expect(ids(q.listVms({ tenantId: 'acme', state: 'deleted' }))).toEqual(['a3']);
    expect(ids(q.listVms({ nodeId: 'n1' }))).toEqual(['a1', 'g1']);
    expect(ids(q.listVms({ regionId: 'eu-west', state: 'running' }))).toEqual(['a2']);
    expect(ids(q.listVms({ regionId: 'us-east' }))).toEqual([]);
    expect(ids(q.listVms({ tenantId: 'nobody' }))).toEqual([]);
  });

  it('listVms: cursor pagination walks every VM once, in id order; a full page has a cursor, a short one none', async () => {
    inventory = openInventory();
    const vmIds = Array.from({ length: 23 }, (_, i) => `vm-${String(i).padStart(3, '0')}`);
    await inventory.apply(regionAdded('eu-west'), ...[...vmIds].reverse().map((id) => vmCreated(id)));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = inventory.queries.listVms({ limit: 5, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...ids(page));
      pages++;
      if (page.nextCursor !== null) expect(page.items).toHaveLength(5);
      expect(page.nextCursor === null || /^[A-Za-z0-9_-]+$/.test(page.nextCursor)).toBe(true);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(seen).toEqual(vmIds);
    expect(pages).toBe(5);
    // A new VM sorting after the cursor appears on the next page, none is repeated.
    const first = inventory.queries.listVms({ limit: 20 });
    await inventory.apply(vmCreated('vm-999'));
    const rest = inventory.queries.listVms({ limit: 20, cursor: first.nextCursor ?? '' });
    expect(ids(rest)).toEqual(['vm-020', 'vm-021', 'vm-022', 'vm-999']);
  });

  it('page sizes: 50 by default, never above 500', async () => {
    inventory = openInventory();
    await inventory.apply(regionAdded('eu-west'), ...Array.from({ length: 520 }, (_, i) => vmCreated(`v${String(i).padStart(4, '0')}`)));
    expect(inventory.queries.listVms().items).toHaveLength(50);
    expect(inventory.queries.listVms({ limit: 10_000 }).items).toHaveLength(500);
  });

  it('a cursor it did not give out is NC_VALIDATION on the cursor field', async () => {
    inventory = openInventory();
    for (const cursor of ['not a cursor!', Buffer.from('{"x":1}').toString('base64url'), Buffer.from('[1]').toString('base64url'), 'eyJ']) {
      let caught: unknown;
      try {
        inventory.queries.listVms({ cursor });
      } catch (error) {
        caught = error;
      }
      expect(isNovaCronError(caught, 'NC_VALIDATION'), cursor).toBe(true);
      expect(isNovaCronError(caught) && caught.details).toEqual({ location: 'querystring', field: 'cursor' });
    }
  });

  it('listTenants, listNodes and listRegions filter and paginate the same way', async () => {
    inventory = openInventory();
    await inventory.apply(
      regionAdded('eu-west'),
      regionAdded('us-east'),
      regionRetired('us-east'),
      nodeRegistered('n1', 'eu-west', { clusterId: 'c1' }),
      nodeRegistered('n2', 'eu-west'),
      nodeRegistered('n3', 'us-east'),
      nodeCordoned('n2'),
      tenantCreated('acme'),
      tenantCreated('globex'),
      tenantSuspended('globex'),
    );
    const q = inventory.queries;
    expect(q.listTenants().items.map((t) => t.tenantId)).toEqual(['acme', 'globex']);
    expect(q.listTenants({ status: 'suspended' }).items.map((t) => t.tenantId)).toEqual(['globex']);
    expect(q.listNodes({ regionId: 'eu-west' }).items.map((n) => n.nodeId)).toEqual(['n1', 'n2']);
    expect(q.listNodes({ status: 'cordoned' }).items.map((n) => n.nodeId)).toEqual(['n2']);
    expect(q.listNodes({ clusterId: 'c1' }).items.map((n) => n.nodeId)).toEqual(['n1']);
    const firstNode = q.listNodes({ limit: 1 });
    expect(q.listNodes({ limit: 5, cursor: firstNode.nextCursor ?? '' }).items.map((n) => n.nodeId)).toEqual(['n2', 'n3']);
    expect(q.listRegions().items.map((r) => [r.regionId, r.status, r.totals.nodes])).toEqual([
      ['eu-west', 'active', 2],
      ['us-east', 'retired', 1],
    ]);
    expect(q.listRegions({ limit: 1, cursor: q.listRegions({ limit: 1 }).nextCursor ?? '' }).items.map((r) => r.regionId)).toEqual(['us-east']);
  });

  it('a batch delivered twice counts nothing twice: an event its stream has already reached is skipped', async () => {
    inventory = openInventory();
    const batch = await inventory.apply(
      regionAdded('eu-west'),
      nodeRegistered('n1', 'eu-west'),
      tenantCreated('acme'),
      quotaReserved('acme', 'q1', 'v1'),
      capacityReserved('n1', 'c1', 'v1'),
      vmCreated('v1'),
      quotaCommitted('acme', 'q1', 'v1'),
      capacityCommitted('n1', 'c1', 'v1'),
    );
    const before = { tenant: inventory.queries.getTenant('acme'), node: inventory.queries.getNode('n1'), region: inventory.queries.getRegion('eu-west') };
    await inventory.reapply(batch);
    expect(inventory.queries.getTenant('acme')).toEqual(before.tenant);
    expect(inventory.queries.getNode('n1')).toEqual(before.node);
    expect(inventory.queries.getRegion('eu-west')).toEqual(before.region);
    expect(before.region?.totals).toMatchObject({ vms: 1, vcpus: { allocated: 2 } });
  });

  it('streamRevision: the last revision and position applied per stream', async () => {
    inventory = openInventory();
    expect(inventory.queries.streamRevision('vm-v1')).toBeNull();
    const recorded = await inventory.apply(regionAdded('eu-west'), vmCreated('v1'), vmStarted('v1'));
    expect(inventory.queries.streamRevision('vm-v1')).toEqual({ revision: 1, position: recorded[2]?.position });
    expect(inventory.queries.streamRevision('region-eu-west')).toEqual({ revision: 0, position: recorded[0]?.position });
  });
});
