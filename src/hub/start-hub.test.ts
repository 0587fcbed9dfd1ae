import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClaimResult, EndpointList, RunnerCreated } from '../core/api.ts';
import { InvalidInputError } from '../core/errors.ts';
import { createLogger } from './create-logger.ts';
import { HUB_FILE, type HubFile } from './hub-file.ts';
import { startHub, type RunningHub } from './start-hub.ts';
import { minimalTaskSpec } from './testing/create-test-hub.ts';
import { readSse } from './testing/read-sse.ts';

const logger = createLogger({ level: 'silent' });

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('startHub', () => {
  let dataDir: string;
  let hub: RunningHub | undefined;
  beforeEach(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'warren-start-hub-')), 'data');
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('serves the API on loopback, writes hub.json and keeps its admin token across restarts', async () => {
    hub = await startHub({ dataDir, port: 0, logger });
    expect(hub.url).toBe(`http://127.0.0.1:${hub.port}`);
    const hubFile = JSON.parse(await readFile(join(dataDir, HUB_FILE), 'utf8')) as HubFile;
    expect(hubFile).toMatchObject({ url: hub.url, pid: process.pid });

    const created = await fetch(`${hub.url}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(minimalTaskSpec),
    });
    expect(created.status).toBe(201);
    const unauthorized = await fetch(`${hub.url}/v1/tasks`);
    expect(unauthorized.status).toBe(401);
    expect(await (await fetch(`${hub.url}/healthz`)).json()).toEqual({ status: 'ok' });

    const { adminToken, url } = hub;
    await hub.close();
    hub = undefined;
    expect(await exists(join(dataDir, HUB_FILE))).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    hub = await startHub({ dataDir, port: 0, logger });
    expect(hub.adminToken).toBe(adminToken);
    const listed = await fetch(`${hub.url}/v1/tasks`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(((await listed.json()) as { tasks: unknown[] }).tasks).toHaveLength(1);
  });

  it('closes with a parked long poll and an open event stream, answering both', async () => {
    hub = await startHub({ dataDir, port: 0, logger });
    const admin = { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${hub.url}/v1/runners`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ name: 'builder', capabilities: ['executor:shell'] }),
    });
    const { token } = (await created.json()) as RunnerCreated;
    const runnerHeaders = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await fetch(`${hub.url}/v1/runner/register`, {
      method: 'POST',
      headers: runnerHeaders,
      body: JSON.stringify({ capabilities: ['executor:shell'], slots: 1 }),
    });

    const longPoll = fetch(`${hub.url}/v1/runner/claim`, {
      method: 'POST',
      headers: runnerHeaders,
      body: JSON.stringify({ waitMs: 30_000 }),
    });
    const events = await fetch(`${hub.url}/v1/events?after=0`, { headers: admin });
    expect(events.status).toBe(200);
    const stream = readSse(events.body!);
    const [first] = await stream.next(1);
    expect(first?.event).toBe('runner.state');

    await hub.close();
    hub = undefined;
    const answer = await longPoll;
    expect(answer.status).toBe(200);
    expect((await answer.json()) as ClaimResult).toEqual({ claims: [] });
    // The stream ends normally (no reset) once the replay is through.
    const rest = await stream.rest();
    expect(rest.every((message) => message.event === 'runner.state')).toBe(true);
  });

  it('leaves a store it was given open', async () => {
    const first = await startHub({ dataDir, port: 0, logger });
    const store = first.store;
    await first.close();
    await expect(store.ping()).resolves.toBe(false);

    const { createSqliteStore } = await import('../store/index.ts');
    const given = await createSqliteStore({ filename: join(dataDir, 'given.db') });
    hub = await startHub({ dataDir, port: 0, logger, store: given });
    await hub.close();
    hub = undefined;
    await expect(given.ping()).resolves.toBe(true);
    await given.close();
  });

  it('refuses a bad config, naming each field, before creating anything', async () => {
    const error = await startHub({
      dataDir,
      port: 0,
      logger,
      config: {
        endpoints: [
          {
            name: 'local',
            provider: 'openai-compatible',
            baseUrl: 'nowhere',
            models: [{ id: 'm', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 }],
          },
        ],
        routing: { seniority: { junior: 'Cheap Models' } },
      },
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues.map((issue) => issue.field)).toEqual([
      'endpoints.0.baseUrl',
      'routing.seniority.junior',
    ]);
    expect(await exists(dataDir)).toBe(false);
  });

  it("checks the config's endpoints over HTTP with their key, lists them, and stops checking on close", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const models = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(request.url === '/v1/models' ? 200 : 404, { 'content-type': 'application/json' });
      response.end('{"data":[]}');
    });
    await new Promise<void>((resolve) => models.listen(0, '127.0.0.1', resolve));
    const port = (models.address() as AddressInfo).port;
    process.env.WARREN_START_HUB_TEST_KEY = 'sk-start-hub-test';
    try {
      hub = await startHub({
        dataDir,
        port: 0,
        logger,
        config: {
          endpoints: [
            {
              name: 'local',
              provider: 'openai-compatible',
              baseUrl: `http://127.0.0.1:${port}/v1/`,
              apiKeyEnv: 'WARREN_START_HUB_TEST_KEY',
              models: [{ id: 'm', tier: 'cheap', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 }],
            },
          ],
          // why: frequent checks, so that checks still going after close would show.
          endpointUpIntervalMs: 20,
        },
      });
      const running = hub;
      const list = async () =>
        (
          (await (
            await fetch(`${running.url}/v1/endpoints`, {
              headers: { authorization: `Bearer ${running.adminToken}` },
            })
          ).json()) as EndpointList
        ).endpoints;
      await vi.waitFor(async () => expect((await list())[0]?.status).toBe('up'));
      expect((await list())[0]).toMatchObject({ name: 'local', baseUrl: `http://127.0.0.1:${port}/v1` });
      expect(seen[0]?.authorization).toBe('Bearer sk-start-hub-test');
      expect(JSON.stringify(await list())).not.toContain('sk-start-hub-test');
      expect(await hub.store.listEndpoints()).toHaveLength(1);
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      expect(metrics).toContain('warren_endpoint_up{endpoint="local"} 1');

      await vi.waitFor(() => expect(seen.length).toBeGreaterThan(2));
      await hub.close();
      hub = undefined;
      const checks = seen.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen).toHaveLength(checks);
    } finally {
      delete process.env.WARREN_START_HUB_TEST_KEY;
      await new Promise((resolve) => models.close(resolve));
    }
  });
});
