/**
 * The `runner` section of Warren's config file: agent definitions, CLI agents and the secrets behind
 * capability grants.
 *
 * ```json
 * { "runner": {
 *     "cliAgents": { "claude-code": { "path": "/opt/claude/bin/claude" }, "goose": { "enabled": false } },
 *     "agents": [{ "name": "reviewer", "systemPrompt": "…", "mcpServers": [{ "name": "github", "command": "…", "grants": ["github:read"] }] }],
 *     "grants": { "github:read": { "GITHUB_TOKEN": { "fromEnv": "WARREN_GITHUB_TOKEN" } } } } }
 * ```
 * Secret values never sit in the file: each names the runner's environment variable or a file to read.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidInputError, type FieldIssue } from '../core/errors.ts';
import { agentDefinitionSchema, type AgentDefinitionInput } from '../executors/agent/agent-definition.ts';
import { CLI_AGENT_NAMES, type CliAgentConfig, type CliAgentName } from '../executors/cli-agents/index.ts';
import type { RunnerAgentPairing } from '../core/fleet-types.ts';
import { healthChecksConfigSchema, runnerAgentPairingsSchema } from '../core/runner-pairing-schema.ts';
import type { DependencyHealthCheck } from './dependency-health-checks.ts';
import type { GrantSecrets } from './run-attempt.ts';

const secretSourceSchema = z.union([
  z.strictObject({
    fromEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
  }),
  z.strictObject({ fromFile: z.string().startsWith('/', 'must be an absolute path') }),
]);

const grantNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._:/-]*$/, 'must be a grant such as "github:read"');
const variableNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** One CLI agent's settings: where its binary is, extra arguments, or `enabled: false` to leave it out. */
const cliAgentConfigSchema = z.strictObject({
  path: z.string().startsWith('/', 'must be an absolute path').optional(),
  // why: a few flags (a profile, a debug switch) is all a CLI needs; 64 catches a runaway list.
  args: z.array(z.string().min(1).max(4_096)).max(64).optional(),
  enabled: z.boolean().optional(),
});

/** The `runner` section as written in the file. */
export const runnerFileConfigSchema = z.strictObject({
  agents: z.array(agentDefinitionSchema).max(100).optional(),
  cliAgents: z.partialRecord(z.enum(CLI_AGENT_NAMES), cliAgentConfigSchema).optional(),
  grants: z.record(grantNameSchema, z.record(variableNameSchema, secretSourceSchema)).optional(),
  /** Agent definitions of the hub this runner runs, with the capabilities each offers (fleet routing). */
  pairings: runnerAgentPairingsSchema.optional(),
  /** Dependency health checks the pairings name. */
  healthChecks: healthChecksConfigSchema.optional(),
});

/** The runner settings the section resolves to. */
export interface RunnerFileConfig {
  agents?: AgentDefinitionInput[];
  cliAgents?: Partial<Record<CliAgentName, CliAgentConfig>>;
  grantSecrets?: GrantSecrets;
  pairings?: RunnerAgentPairing[];
  healthChecks?: Record<string, DependencyHealthCheck>;
}

/**
 * Validates the `runner` section and reads its secrets from the environment and files. Throws
 * InvalidInputError naming each bad field (`runner.grants.github:read.GITHUB_TOKEN: …`), never a value.
 */
export function parseRunnerConfig(
  raw: unknown,
  environment: NodeJS.ProcessEnv = process.env,
): RunnerFileConfig {
  if (raw === undefined) return {};
  const parsed = runnerFileConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidInputError(
      parsed.error.issues.flatMap((issue) => {
        const field = ['runner', ...issue.path.map(String)].join('.');
        // An unknown key is named in the field, with what is allowed there.
        if (issue.code === 'unrecognized_keys') {
          return issue.keys.map((key) => ({
            field: `${field}.${key}`,
            reason:
              field === 'runner.cliAgents'
                ? `not a CLI agent Warren drives (${CLI_AGENT_NAMES.join(', ')})`
                : 'unknown field',
          }));
        }
        return [{ field, reason: issue.message }];
      }),
    );
  }
  const issues: FieldIssue[] = [];
  const grantSecrets: GrantSecrets = {};
  for (const [grant, variables] of Object.entries(parsed.data.grants ?? {})) {
    grantSecrets[grant] = {};
    for (const [name, source] of Object.entries(variables)) {
      const field = `runner.grants.${grant}.${name}`;
      if ('fromEnv' in source) {
        const value = environment[source.fromEnv];
        if (value) grantSecrets[grant][name] = value;
        else
          issues.push({ field, reason: `environment variable ${source.fromEnv} is not set on this runner` });
      } else {
        try {
          const value = readFileSync(source.fromFile, 'utf8').trim();
          if (value) grantSecrets[grant][name] = value;
          else issues.push({ field, reason: `secret file ${source.fromFile} is empty` });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
          issues.push({ field, reason: `secret file ${source.fromFile} cannot be read (${code})` });
        }
      }
    }
  }
  if (issues.length > 0) throw new InvalidInputError(issues);
  return {
    ...(parsed.data.agents ? { agents: parsed.data.agents } : {}),
    ...(parsed.data.cliAgents ? { cliAgents: toCliAgentConfigs(parsed.data.cliAgents) } : {}),
    ...(parsed.data.grants ? { grantSecrets } : {}),
    ...(parsed.data.pairings ? { pairings: parsed.data.pairings } : {}),
    ...(parsed.data.healthChecks ? { healthChecks: parsed.data.healthChecks } : {}),
  };
}

function toCliAgentConfigs(
  raw: NonNullable<z.infer<typeof runnerFileConfigSchema>['cliAgents']>,
): Partial<Record<CliAgentName, CliAgentConfig>> {
  const configs: Partial<Record<CliAgentName, CliAgentConfig>> = {};
  for (const [name, entry] of Object.entries(raw) as Array<
    [CliAgentName, z.infer<typeof cliAgentConfigSchema>]
  >) {
    configs[name] = {
      ...(entry.path ? { binaryPath: entry.path } : {}),
      ...(entry.args ? { extraArgs: entry.args } : {}),
      ...(entry.enabled !== undefined ? { enabled: entry.enabled } : {}),
    };
  }
  return configs;
}
