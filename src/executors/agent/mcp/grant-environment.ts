/**
 * Credential grants for MCP servers: which secrets a server receives for one activation.
 *
 * A server receives the credentials of a grant only when the server asks for the grant (`grants` in its
 * configuration) AND the task holds it. Everything else a stdio server sees comes from the runner's base
 * environment and the server's own plain `env`; the runner's `process.env` is never read here.
 */
import type { HttpMcpServerConfig, McpServerConfig, StdioMcpServerConfig } from './mcp-server-config.ts';
import type { GrantSecrets } from '../../spec.ts';

export type { GrantSecrets };

/** Who asks (the server) and what may be given (the task's grants and the runner's secrets). */
export interface GrantInput<Server extends Pick<McpServerConfig, 'name' | 'grants'> = McpServerConfig> {
  server: Server;
  /** Grants the task holds. */
  taskGrants: readonly string[];
  grantSecrets: GrantSecrets;
}

/** The grants a server receives: those it asks for that the task also holds, in the server's order. */
export function grantsForServer(
  server: Pick<McpServerConfig, 'grants'>,
  taskGrants: readonly string[],
): string[] {
  const held = new Set(taskGrants);
  return [...new Set(server.grants ?? [])].filter((grant) => held.has(grant));
}

/**
 * The secret variables a server receives: the variables of every grant in {@link grantsForServer}. When
 * two grants provide the same variable, the grant listed later in the server's `grants` wins.
 */
export function grantedVariables(
  input: GrantInput<Pick<McpServerConfig, 'name' | 'grants'>>,
): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const grant of grantsForServer(input.server, input.taskGrants)) {
    Object.assign(variables, input.grantSecrets[grant] ?? {});
  }
  return variables;
}

/**
 * The complete environment of a stdio server's process: `baseEnv` (the runner's minimal task environment,
 * never `process.env`), then the server's plain `env`, then its granted variables; later entries win.
 */
export function environmentForServer(
  input: GrantInput<StdioMcpServerConfig> & { baseEnv: Record<string, string> },
): Record<string, string> {
  return { ...input.baseEnv, ...input.server.env, ...grantedVariables(input) };
}

/** The request headers of an HTTP server, or why they cannot be made. */
export type HeadersForServerResult =
  { success: true; headers: Record<string, string> } | { success: false; error: string };

const variableReference = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * The request headers of an HTTP server, with every `${VAR}` in a value replaced by the value of a
 * variable granted to that server (see {@link grantedVariables}). A reference to a variable the server is
 * not granted is an error naming the server, the header and the variable; nothing else is looked up.
 */
export function headersForServer(input: GrantInput<HttpMcpServerConfig>): HeadersForServerResult {
  const variables = grantedVariables(input);
  const headers: Record<string, string> = {};
  for (const [header, template] of Object.entries(input.server.headers ?? {})) {
    const missing = [...template.matchAll(variableReference)]
      .map((match) => match[1]!)
      .filter((name) => !Object.hasOwn(variables, name));
    if (missing.length > 0) {
      const granted = grantsForServer(input.server, input.taskGrants);
      return {
        success: false,
        error:
          `MCP server "${input.server.name}": header "${header}" references \${${missing[0]}}, which none ` +
          `of its granted grants provides (granted: ${granted.length > 0 ? granted.join(', ') : 'none'}; ` +
          `asked for: ${(input.server.grants ?? []).join(', ') || 'none'})`,
      };
    }
    headers[header] = template.replace(variableReference, (_reference, name: string) => variables[name]!);
  }
  return { success: true, headers };
}

/**
 * Every secret value the given servers receive through grants, so callers can redact them from logs and
 * outputs. Sorted longest first and without duplicates or empty strings.
 */
export function grantedSecretValues(input: {
  servers: ReadonlyArray<Pick<McpServerConfig, 'name' | 'grants'>>;
  taskGrants: readonly string[];
  grantSecrets: GrantSecrets;
}): string[] {
  const values = new Set<string>();
  for (const server of input.servers) {
    for (const value of Object.values(grantedVariables({ ...input, server }))) {
      if (value !== '') values.add(value);
    }
  }
  return [...values].sort((left, right) => right.length - left.length);
}
