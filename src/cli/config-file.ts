/**
 * Warren's config file (`warren up --config <file>`, default `$WARREN_HOME/config.json` when it exists):
 *
 * ```json
 * { "database": { "url": "postgres://...", "schema": "warren" },
 *   "hub": { "endpoints": [ModelEndpoint, ...], "routing": RoutingConfig, "rateLimits": RateLimitConfig },
 *   "runner": { "agents": [...], "grants": { ... } } }
 * ```
 *
 * `hub.agents` names where agent definitions come from (`{ "directory": "..." }` or
 * `{ "git": { "url": "...", "ref": "main", "path": "..." } }`, docs/agents.md); a relative directory (or a
 * Git URL starting with `./` or `../`) is resolved against the config file's folder.
 *
 * `database` is optional: without it (and without `WARREN_DATABASE_URL`) Warren uses the embedded SQLite
 * file in the data dir. The `hub` section is validated here in full; the `runner` section belongs to the runner and is handed to
 * `parseRunnerConfig` as it is. Every problem is reported with its JSON path, e.g.
 * `hub.endpoints[0].baseUrl: must be an http(s) URL`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { agentSourceConfigSchema, type AgentSourceConfig } from '../core/agent-source-config.ts';
import { InvalidInputError, type FieldIssue } from '../core/errors.ts';
import { modelEndpointSchema, type ModelEndpoint } from '../core/model-endpoints.ts';
import { routingConfigSchema, type RoutingConfig } from '../core/routing-config.ts';
import { rateLimitConfigSchema, type RateLimitConfig } from '../hub/rate-limit-config.ts';
import { CliError } from './cli-error.ts';

/** The file's name in the data dir, read by `warren up` when no `--config` is given. */
export const CONFIG_FILE = 'config.json';

/** The file's shape: the `hub` section checked in full, the `runner` section left to the runner. */
const configFileSchema = z.strictObject({
  database: z
    .strictObject({
      url: z.string().min(1).optional(),
      // why a plain identifier: it names a schema in SQL and a NOTIFY channel; anything fancier is a typo.
      schema: z
        .string()
        .regex(
          /^[a-z_][a-z0-9_]{0,47}$/,
          'must be a lower-case identifier (letters, digits, _), at most 48 long',
        )
        .optional(),
    })
    .optional(),
  hub: z
    .strictObject({
      endpoints: z.array(modelEndpointSchema).max(100).optional(),
      routing: routingConfigSchema.optional(),
      rateLimits: rateLimitConfigSchema.optional(),
      agents: agentSourceConfigSchema.optional(),
    })
    .superRefine((hub, context) => {
      const seen = new Set<string>();
      for (const [index, endpoint] of (hub.endpoints ?? []).entries()) {
        if (seen.has(endpoint.name)) {
          context.addIssue({
            code: 'custom',
            path: ['endpoints', index, 'name'],
            message: `endpoint "${endpoint.name}" is listed twice`,
          });
        }
        seen.add(endpoint.name);
      }
    })
    .optional(),
  runner: z.unknown().optional(),
});

/** A config file, read and checked. */
export interface WarrenConfigFile {
  /** Where it was read from (absolute). */
  path: string;
  /** Where the store lives, when not the embedded SQLite file. */
  database?: { url?: string; schema?: string };
  hub: {
    endpoints?: ModelEndpoint[];
    routing?: RoutingConfig;
    rateLimits?: RateLimitConfig;
    /** Where agent definitions come from, relative paths resolved against the file's folder. */
    agents?: AgentSourceConfig;
  };
  /** The `runner` section as written, for `parseRunnerConfig`. */
  runner?: unknown;
}

/**
 * The config file to use: `explicit` when given (it must exist), else `<dataDir>/config.json` when it
 * exists, else none.
 */
export function findConfigFile(explicit: string | undefined, dataDir: string): string | undefined {
  if (explicit !== undefined) return resolve(explicit);
  const fallback = join(dataDir, CONFIG_FILE);
  return existsSync(fallback) ? fallback : undefined;
}

/** Reads and checks a config file; throws CliError naming the file and each bad JSON path. */
export function readConfigFile(path: string): WarrenConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read config file ${path}: ${(error as Error).message}`, {
      hint: 'pass --config PATH of a JSON file, or leave it out',
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw configError(
      path,
      parsed.error.issues.map((issue) => ({
        field: jsonPathOf(issue.path),
        reason:
          issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : issue.message,
      })),
    );
  }
  const config: WarrenConfigFile = { path, hub: parsed.data.hub ?? {} };
  if (config.hub.agents !== undefined)
    config.hub.agents = resolveAgentSource(config.hub.agents, dirname(path));
  if (parsed.data.runner !== undefined) config.runner = parsed.data.runner;
  if (parsed.data.database !== undefined) config.database = parsed.data.database;
  return config;
}

/**
 * A CliError listing `issues` (fields as JSON paths) of the config file at `path`. Takes an
 * InvalidInputError's issues too, whose dotted fields (`runner.agents.0.name`) are turned into JSON paths.
 */
export function configError(path: string, issues: FieldIssue[]): CliError {
  const lines = issues.map((issue) => `  - ${dottedToJsonPath(issue.field) || '(file)'}: ${issue.reason}`);
  return new CliError(`config file ${path} is not valid:\n${lines.join('\n')}`, {
    hint: 'fix the fields named above (see docs/models-and-routing.md)',
  });
}

/** Runs `parse` and turns an InvalidInputError it throws into {@link configError}. */
export function withConfigErrors<Result>(path: string, parse: () => Result): Result {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InvalidInputError) throw configError(path, error.issues);
    throw error;
  }
}

/** `['hub', 'endpoints', 0, 'baseUrl']` → `hub.endpoints[0].baseUrl`. */
function jsonPathOf(path: ReadonlyArray<PropertyKey>): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}

/** `runner.agents.0.name` → `runner.agents[0].name`. */
function dottedToJsonPath(field: string): string {
  return field.replace(/\.(\d+)(?=\.|$)/g, '[$1]');
}

/** The agents setting with a relative directory (or `./`, `../` Git URL) resolved against `folder`. */
function resolveAgentSource(agents: AgentSourceConfig, folder: string): AgentSourceConfig {
  if ('directory' in agents) return { directory: resolve(folder, agents.directory) };
  if (/^\.\.?\//.test(agents.git.url))
    return { git: { ...agents.git, url: resolve(folder, agents.git.url) } };
  return agents;
}
