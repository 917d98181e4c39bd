import { describe, it } from 'vitest';
import { DeciderSpecification } from '../testing/specification.ts';
import type { ClusterCommand } from './commands.ts';
import { clusterDecider } from './decider.ts';
import type { ClusterEvent } from './state.ts';

const spec = DeciderSpecification.for(clusterDecider);
const metadata = { now: '2025-01-01T00:00:00Z' };
const clusterId = 'c1';

const command = {
  join: (regionId = 'eu-west'): ClusterCommand => ({ type: 'JoinCluster', data: { clusterId, regionId }, metadata }),
  leave: (): ClusterCommand => ({ type: 'LeaveCluster', data: { clusterId }, metadata }),
  report: (healthy: boolean, detail?: string): ClusterCommand => ({ type: 'ReportClusterHealth', data: { clusterId, healthy, detail }, metadata }),
};

const event = {
  joined: (regionId = 'eu-west'): ClusterEvent => ({ type: 'ClusterJoined', data: { clusterId, regionId } }),
  left: (regionId = 'eu-west'): ClusterEvent => ({ type: 'ClusterLeft', data: { clusterId, regionId } }),
  reported: (healthy: boolean, detail: string | null = null, regionId = 'eu-west'): ClusterEvent => ({
    type: 'ClusterHealthReported',
    data: { clusterId, regionId, healthy, detail },
  }),
};

describe('cluster decider', () => {
  describe('when the cluster never joined a region', () => {
    it('joins a region', () => spec.given([]).when(command.join()).then([event.joined()]));
    it('rejects an invalid region id', () => spec.given([]).when(command.join('')).thenThrows('NC_VALIDATION', { field: 'regionId' }));
    it.each([command.leave(), command.report(true)])('rejects $type as not found', (c) =>
      spec.given([]).when(c).thenThrows('NC_NOT_FOUND', { entity: 'cluster', id: clusterId }));
  });

  describe('when the cluster is joined', () => {
    const joined = [event.joined()];
    it('does nothing when it joins the same region again', () => spec.given(joined).when(command.join()).then([]));
    it('refuses to join another region', () =>
      spec.given(joined).when(command.join('us-east')).thenThrows('NC_INVALID_STATE', { state: 'joined', regionId: 'eu-west', requestedRegionId: 'us-east' }));
    it('leaves its region', () => spec.given(joined).when(command.leave()).then([event.left()]));
    it('reports health', () => spec.given(joined).when(command.report(true)).then([event.reported(true)]));
    it('reports trouble with a detail', () =>
      spec.given([...joined, event.reported(true)]).when(command.report(false, '2/5 hosts down')).then([event.reported(false, '2/5 hosts down')]));
    it('rejects a health report that is not a boolean', () =>
      spec.given(joined).when(command.report('yes' as unknown as boolean)).thenThrows('NC_VALIDATION', { field: 'healthy' }));
  });

  describe('when the cluster left its region', () => {
    const left = [event.joined(), event.left()];
    it('joins another region', () => spec.given(left).when(command.join('us-east')).then([event.joined('us-east')]));
    it('reports health for the region it joined since', () =>
      spec.given([...left, event.joined('us-east')]).when(command.report(true)).then([event.reported(true, null, 'us-east')]));
    it.each([command.leave(), command.report(true)])('rejects $type', (c) =>
      spec.given(left).when(c).thenThrows('NC_INVALID_STATE', { state: 'left', allowed: ['joined'] }));
  });
});
