import { describe, expect, it } from 'vitest';
import { rateLimitActionOf } from './rate-limit-action.ts';

describe('rateLimitActionOf', () => {
  it('names the action of every route', () => {
    const cases: Array<[string, string, string]> = [
      ['POST', '/v1/tasks', 'task.create'],
      ['POST', '/v1/tasks/batch', 'task.createBatch'],
      ['GET', '/v1/tasks', 'task.list'],
      ['GET', '/v1/tasks/tsk_1', 'task.read'],
      ['GET', '/v1/tasks/tsk_1/logs', 'task.read'],
      ['POST', '/v1/tasks/tsk_1/cancel', 'admin.other'],
      ['POST', '/v1/tasks/tsk_1/retry', 'admin.other'],
      ['GET', '/v1/events', 'event.stream'],
      ['POST', '/v1/runners', 'admin.other'],
      ['GET', '/v1/runners', 'admin.other'],
      ['DELETE', '/v1/runners/run_1', 'admin.other'],
      ['POST', '/v1/runner/register', 'runner.register'],
      ['POST', '/v1/runner/heartbeat', 'attempt.report'],
      ['POST', '/v1/runner/claim', 'runner.claim'],
      ['POST', '/v1/attempts/att_1/heartbeat', 'attempt.report'],
      ['POST', '/v1/attempts/att_1/logs', 'attempt.report'],
      ['POST', '/v1/attempts/att_1/complete', 'attempt.report'],
      ['GET', '/v1/endpoints', 'admin.other'],
      ['PUT', '/v1/endpoints/local', 'endpoint.write'],
      ['DELETE', '/v1/endpoints/local', 'endpoint.write'],
      ['GET', '/v1/nowhere', 'admin.other'],
      ['DELETE', '/v1/tasks', 'admin.other'],
    ];
    expect(cases.map(([method, path]) => [method, path, rateLimitActionOf(method, path)])).toEqual(cases);
  });
});
