import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { startDependencyHealthChecks } from './dependency-health-checks.ts';

describe('dependency health checks', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('reports 2xx as healthy, other answers, silence and refusals as failing, and calls back on flips', async () => {
    let status = 200;
    server = createServer((request, response) => {
      if (request.url === '/hang') return;
      response.statusCode = status;
      response.end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let flips = 0;
    const checks = startDependencyHealthChecks({
      checks: {
        argo: { url: `${base}/healthz`, intervalMs: 60_000 },
        slow: { url: `${base}/hang`, timeoutMs: 200, intervalMs: 60_000 },
        gone: { url: 'http://127.0.0.1:1/healthz', intervalMs: 60_000 },
      },
      logger: silentLogger,
      onChange: () => (flips += 1),
    });
    try {
      expect(checks.results()).toEqual([]);
      await checks.checkAll();
      const byName = Object.fromEntries(checks.results().map((result) => [result.name, result]));
      expect(byName.argo).toMatchObject({ healthy: true, detail: 'HTTP 200' });
      expect(byName.slow).toMatchObject({ healthy: false, detail: 'no answer within 200 ms' });
      expect(byName.gone?.healthy).toBe(false);
      expect(byName.gone?.detail).toMatch(/^unreachable: /);
      expect(flips).toBe(3);

      status = 503;
      await checks.checkAll();
      expect(checks.results().find((result) => result.name === 'argo')).toMatchObject({
        healthy: false,
        detail: 'HTTP 503',
      });
      expect(flips).toBe(4);
    } finally {
      checks.stop();
    }
  });
});
