import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isNovaCronError } from '../errors/index.ts';
import { kafkaUnavailable } from './client.ts';

/** A port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('kafkaUnavailable', () => {
  it('takes a registry that cannot be reached (fetch rejects with TypeError "fetch failed") for NC_KAFKA_UNAVAILABLE, retriable', async () => {
    const failure: unknown = await fetch(`http://127.0.0.1:${await closedPort()}/subjects`).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);
    const error = kafkaUnavailable(failure, 'reading the compatibility rule of subject s');
    expect(isNovaCronError(error) && error.code).toBe('NC_KAFKA_UNAVAILABLE');
    expect((error as { retriable?: boolean }).retriable).toBe(true);
    expect((error as Error).message).toMatch(/^reading the compatibility rule of subject s: fetch failed \(.*ECONNREFUSED/);
  });

  it('lets programming errors through', () => {
    const typeError = new TypeError('x is not a function');
    expect(kafkaUnavailable(typeError, 'doing')).toBe(typeError);
    const rangeError = new RangeError('out of range');
    expect(kafkaUnavailable(rangeError, 'doing')).toBe(rangeError);
  });
});
