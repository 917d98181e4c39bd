import type { VmSize } from '../../schemas/generated/events.ts';
import { requireAmounts } from '../shared/resources.ts';
import { invalid } from '../shared/validation.ts';

/**
 * Sizes a VM may have. Memory: 512 MiB (smallest image that boots a cloud
 * distribution) to 1 TiB (largest host we plan for). Disk: 1 GiB to 10 TiB.
 */
export const VM_LIMITS = {
  vcpus: { min: 1, max: 128 },
  memoryMiB: { min: 512, max: 1_048_576 },
  diskGiB: { min: 1, max: 10_240 },
} as const;

export const SIZE_DIMENSIONS = ['vcpus', 'memoryMiB', 'diskGiB'] as const satisfies readonly (keyof VmSize)[];

export function requireSize(field: string, value: unknown): VmSize {
  const size = requireAmounts(field, SIZE_DIMENSIONS, value, { min: 0 });
  for (const dimension of SIZE_DIMENSIONS) {
    const { min, max } = VM_LIMITS[dimension];
    if (size[dimension] < min || size[dimension] > max) {
      throw invalid(`${field}.${dimension}`, `must be an integer from ${min} to ${max}`, { value: size[dimension], min, max });
    }
  }
  return size;
}
