/**
 * The rate limits' settings: one token bucket per runner and one for the admin client, and what each action
 * costs. Every part has a default, so `{}` is a complete config; `{ enabled: false }` turns the limits off.
 */
import { z } from 'zod';
import { RATE_LIMIT_ACTIONS, type RateLimitAction } from './rate-limit-action.ts';

/** Actions a runner token may call (`/v1/runner/*`, `/v1/attempts/*`); the admin client may call them all. */
const runnerActions: ReadonlySet<RateLimitAction> = new Set([
  'runner.register',
  'runner.claim',
  'attempt.report',
  'admin.other',
]);

const bucketSchema = (defaults: { capacity: number; refillPerSecond: number }) =>
  z
    .strictObject({
      capacity: z.number().positive('must be a positive number of tokens').default(defaults.capacity),
      refillPerSecond: z
        .number()
        .positive('must be a positive number of tokens per second')
        .default(defaults.refillPerSecond),
    })
    .prefault({});

const cost = (defaultCost: number) =>
  z.number().min(0, 'must be a number of tokens, 0 or more').default(defaultCost);

/**
 * The rate limits with their defaults. Cost defaults are in tokens, a cheap indexed read being 1: reads
 * cost less than writes, and a runner's routine reports cost the least.
 */
export const rateLimitConfigSchema = z
  .strictObject({
    // why on: a script or a runner stuck in a loop must not take the whole hub from everyone else; the
    // defaults below sit far above normal use, so nobody meets them without such a loop.
    enabled: z.boolean().default(true),
    // why 2,000 and 500/s: a runner's routine traffic is log flushes (at most five a second per running
    // attempt, `src/runner/create-attempt-log.ts`), a heartbeat per attempt every 10 s and a request or two
    // per finished task: about 20 a second for 4 slots, under 400 for 64 slots of one-second shell tasks.
    // A runner in a loop gets at most 500 of the few thousand requests a second a hub serves; the 4 s burst
    // covers a reconnect (buffered logs, every attempt's heartbeat at once).
    runner: bucketSchema({ capacity: 2_000, refillPerSecond: 500 }),
    // why 2,000 and 500/s: one admin token serves every operator, script and CLI at once. 500/s is 250 single
    // creates or 2.5 full batches (2,500 tasks) a second, more than one hub completes end to end (README:
    // about 1,500 tasks/s on two cores); the 4 s burst is ten full batches back to back.
    admin: bucketSchema({ capacity: 2_000, refillPerSecond: 500 }),
    costs: z
      .strictObject({
        // why 2: one write transaction and an event, twice a lookup.
        'task.create': cost(2),
        // why 200 (100 creates): the limit is checked before the body is read, so a batch of up to 1,000
        // tasks costs the same whatever its size; one transaction per batch costs the hub far less per task
        // than one request per task.
        'task.createBatch': cost(200),
        // why 1: one indexed lookup (a task with its attempts, or a page of its log).
        'task.read': cost(1),
        // why 2: a page of up to a few hundred rows.
        'task.list': cost(2),
        // why 5: opening a stream replays missed events; clients reconnect rarely, a reconnect loop is a bug.
        'event.stream': cost(5),
        // why 10: once per runner start; a runner restarting in a loop should not re-register 500 times a second.
        'runner.register': cost(10),
        // why 1: one claim query; a long poll then waits at no cost.
        'runner.claim': cost(1),
        // why 1: heartbeats, log flushes and completions are what keeps work alive; they must never starve.
        'attempt.report': cost(1),
        // why 10: an endpoint change starts health checks against the model server.
        'endpoint.write': cost(10),
        // why 2: runner management, cancel and retry: small writes and lists.
        'admin.other': cost(2),
      } satisfies Record<RateLimitAction, z.ZodType>)
      .prefault({}),
  })
  .superRefine((config, context) => {
    for (const action of RATE_LIMIT_ACTIONS) {
      const price = config.costs[action];
      const limits: Array<['admin' | 'runner', number]> = [['admin', config.admin.capacity]];
      if (runnerActions.has(action)) limits.push(['runner', config.runner.capacity]);
      for (const [principal, capacity] of limits) {
        if (price > capacity) {
          context.addIssue({
            code: 'custom',
            path: ['costs', action],
            message: `${price} is more than ${principal}.capacity (${capacity}): the action could never pass`,
          });
        }
      }
    }
  });

/** Complete rate limit settings. */
export type RateLimitConfig = z.output<typeof rateLimitConfigSchema>;
/** Rate limit settings as written, any part left to its default. */
export type RateLimitConfigInput = z.input<typeof rateLimitConfigSchema>;

/** The default rate limits. */
export const DEFAULT_RATE_LIMIT_CONFIG: Readonly<RateLimitConfig> = rateLimitConfigSchema.parse({});
