import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClaimResult, EndpointList, RunnerCreated } from '../core/api.ts';
import { InvalidInputError } from '../core/errors.ts';
import { modelEndpointSchema } from '../core/model-endpoints.ts';
import { createLogger } from './create-logger.ts';
import { HUB_FILE, type HubFile } from './hub-file.ts';
import { startHub, type RunningHub } from './start-hub.ts';
import { routedTaskSpec } from '../store/testing/routed-task-spec.ts';
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
    // Alone on its store, it leads maintenance from the start.
    expect(hub.instanceId).toMatch(/^hub_/);
    expect(hub.isLeader()).toBe(true);
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

    const { adminToken, url, instanceId } = hub;
    await hub.close();
    hub = undefined;
    expect(await exists(join(dataDir, HUB_FILE))).toBe(false);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();

    hub = await startHub({ dataDir, port: 0, logger });
    expect(hub.adminToken).toBe(adminToken);
    // A new instance, leading at once: the old one gave the leadership up on close.
    expect(hub.instanceId).not.toBe(instanceId);
    expect(hub.isLeader()).toBe(true);
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

  it('runs no maintenance while another hub leads, and takes over when that leadership lapses', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const { createSqliteStore } = await import('../store/index.ts');
    const store = await createSqliteStore({ filename: join(dataDir, '..', 'shared.db'), clock: () => now });
    await store.migrate();
    await store.acquireLeadership({ name: 'maintenance', holder: 'hub_elsewhere', ttlMs: 60_000 });
    const runner = await store.createRunner({
      name: 'builder',
      capabilities: ['executor:shell'],
      slots: 1,
      tokenHash: 'x',
    });
    await store.enqueueTask(routedTaskSpec({ title: 'Work', repo: '/tmp/repo' }));
    const [claim] = await store.claimTasks({
      runnerId: runner.id,
      capabilities: runner.capabilities,
      limit: 1,
      leaseMs: 1_000,
    });
    // The attempt's lease has lapsed; the other hub's leadership has not.
    now += 10_000;
    let acquires = 0;
    let passes = 0;
    const counted = new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'acquireLeadership') acquires += 1;
        if (property === 'expireLeases') passes += 1;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    try {
      hub = await startHub({
        dataDir,
        port: 0,
        logger,
        store: counted,
        config: { maintenanceIntervalMs: 5, leaderRenewIntervalMs: 20, leaderLeaseMs: 60_000 },
      });
      const running = hub;
      const metric = async () =>
        (await (await fetch(`${running.url}/metrics`)).text()).match(/^warren_hub_leader \d/m)?.[0];
      expect(hub.isLeader()).toBe(false);
      await vi.waitFor(() => expect(acquires).toBeGreaterThanOrEqual(5));
      expect(passes).toBe(0);
      expect((await store.getAttempt(claim!.attempt.id))?.state).toBe('leased');
      expect(await metric()).toBe('warren_hub_leader 0');
      // A follower is ready all the same.
      expect((await fetch(`${hub.url}/readyz`)).status).toBe(200);

      now += 60_000;
      await vi.waitFor(async () => expect((await store.getAttempt(claim!.attempt.id))?.state).toBe('lost'));
      expect(hub.isLeader()).toBe(true);
      expect(await metric()).toBe('warren_hub_leader 1');
      // On SQLite every hub leads under one fixed holder (only one can hold the file).
      expect(await store.getLeadership('maintenance')).toMatchObject({ holder: 'hub_embedded', term: 2 });

      await hub.close();
      hub = undefined;
      expect(await store.getLeadership('maintenance')).toMatchObject({
        expiresAt: new Date(now).toISOString(),
      });
    } finally {
      await hub?.close();
      hub = undefined;
      await store.close();
    }
  });

  it('leads at once on a SQLite file whose previous hub died without giving the leadership up', async () => {
    const { createSqliteStore } = await import('../store/index.ts');
    const filename = join(dataDir, 'warren.db');
    await mkdir(dataDir, { recursive: true });
    const crashed = await createSqliteStore({ filename });
    await crashed.migrate();
    // What a SIGKILLed hub leaves behind: its leadership, running for another minute.
    await crashed.acquireLeadership({ name: 'maintenance', holder: 'hub_embedded', ttlMs: 60_000 });
    await crashed.close();
    hub = await startHub({ dataDir, port: 0, logger, config: { leaderLeaseMs: 60_000 } });
    expect(hub.isLeader()).toBe(true);
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

  it('picks up endpoints another hub added to or removed from the shared store', async () => {
    const models = createServer((request, response) => {
      response.writeHead(request.url === '/v1/models' ? 200 : 404, { 'content-type': 'application/json' });
      response.end('{"data":[]}');
    });
    await new Promise<void>((resolve) => models.listen(0, '127.0.0.1', resolve));
    const port = (models.address() as AddressInfo).port;
    try {
      hub = await startHub({ dataDir, port: 0, logger, config: { endpointSyncIntervalMs: 20 } });
      const running = hub;
      const list = async () =>
        (
          (await (
            await fetch(`${running.url}/v1/endpoints`, {
              headers: { authorization: `Bearer ${running.adminToken}` },
            })
          ).json()) as EndpointList
        ).endpoints;
      expect(await list()).toEqual([]);
      // What another hub on the same database does: write the endpoint straight into the store.
      await hub.store.upsertEndpoint(
        modelEndpointSchema.parse({
          name: 'shared',
          provider: 'openai-compatible',
          baseUrl: `http://127.0.0.1:${port}/v1`,
          models: [{ id: 'm', tier: 'cheap', inputPricePerMillionUsd: 0, outputPricePerMillionUsd: 0 }],
        }),
      );
      await vi.waitFor(async () => expect((await list())[0]).toMatchObject({ name: 'shared', status: 'up' }));
      await hub.store.deleteEndpoint('shared');
      await vi.waitFor(async () => expect(await list()).toEqual([]));
    } finally {
      await new Promise<void>((resolve) => models.close(() => resolve()));
    }
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
