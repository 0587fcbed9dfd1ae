/**
 * The `runner` section of Warren's config file: agent definitions and the secrets behind capability grants.
 *
 * ```json
 * { "runner": {
 *     "agents": [{ "name": "reviewer", "systemPrompt": "…", "mcpServers": [{ "name": "github", "command": "…", "grants": ["github:read"] }] }],
 *     "grants": { "github:read": { "GITHUB_TOKEN": { "fromEnv": "WARREN_GITHUB_TOKEN" } } } } }
 * ```
 * Secret values never sit in the file: each names the runner's environment variable or a file to read.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InvalidInputError, type FieldIssue } from '../core/errors.ts';
import { agentDefinitionSchema, type AgentDefinitionInput } from '../executors/agent/agent-definition.ts';
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

/** The `runner` section as written in the file. */
export const runnerFileConfigSchema = z.strictObject({
  agents: z.array(agentDefinitionSchema).max(100).optional(),
  grants: z.record(grantNameSchema, z.record(variableNameSchema, secretSourceSchema)).optional(),
});

/** The runner settings the section resolves to. */
export interface RunnerFileConfig {
  agents?: AgentDefinitionInput[];
  grantSecrets?: GrantSecrets;
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
      parsed.error.issues.map((issue) => ({
        field: ['runner', ...issue.path.map(String)].join('.'),
        reason: issue.message,
      })),
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
    ...(parsed.data.grants ? { grantSecrets } : {}),
  };
}
