/**
 * The configuration of one MCP server in an agent definition: a local process spoken to over stdio, or a
 * remote server spoken to over Streamable HTTP. Secrets never appear here: a server names the grants it
 * wants (`grants`), and the runner adds the granted credentials when the task holds those grants
 * (see `grant-environment.ts`).
 */
import path from 'node:path';
import { z } from 'zod';

// why: the name prefixes every tool of the server (`name__tool`) and model APIs cap tool names at 64
// characters; 32 leaves the tool's own name at least 30.
const serverNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,31}$/,
    'must be 1 to 32 lowercase letters, digits, _ or -, starting with a letter (it prefixes tool names)',
  );

// why: the same shape as task capabilities (`github:read`), so a grant reads like one.
const grantSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._:/-]*$/, 'must be lowercase letters, digits and . _ : / - such as github:read');

const environmentNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/);

// why: an HTTP header name is an RFC 9110 token.
const headerNameSchema = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);

// why: 1 s is the least a real process needs to start and answer `initialize`; past 5 minutes a server
// is stuck, not slow.
const startupTimeoutMsSchema = z.number().int().min(1_000).max(300_000);

/** A local MCP server: a process the runner starts per activation and speaks to over stdin/stdout. */
export const stdioMcpServerConfigSchema = z.strictObject({
  transport: z.literal('stdio'),
  /** Unique within the agent definition; prefixes the server's tools (`name__tool`). */
  name: serverNameSchema,
  /** The program to run, without a shell; resolved against the `PATH` of the server's environment. */
  command: z.string().min(1, 'required').max(4_096),
  args: z.array(z.string().max(10_000)).max(256).optional(),
  /** Plain, non-secret variables on top of the runner's base environment. Secrets come from `grants`. */
  env: z
    .record(environmentNameSchema, z.string().max(10_000), {
      error: (issue) =>
        issue.code === 'invalid_key' ? 'must be an environment variable name such as MY_VAR' : undefined,
    })
    .optional(),
  /** Directory the process runs in: the attempt's worktree (the default) or an absolute path. */
  cwd: z
    .union([
      z.literal('worktree'),
      z.string().refine((value) => path.isAbsolute(value), 'must be "worktree" or an absolute path'),
    ])
    .optional(),
  /** Grants whose credentials the server wants; it gets those the task also holds. */
  grants: z.array(grantSchema).max(64).optional(),
  /** How long the server has to start, answer `initialize` and list its tools. */
  startupTimeoutMs: startupTimeoutMsSchema.optional(),
});

/** A remote MCP server spoken to over Streamable HTTP. */
export const httpMcpServerConfigSchema = z.strictObject({
  transport: z.literal('http'),
  /** Unique within the agent definition; prefixes the server's tools (`name__tool`). */
  name: serverNameSchema,
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .max(4_096, 'must be at most 4096 characters'),
  /**
   * Request headers. A value may reference `${VAR}`, resolved only from the variables of the grants this
   * server is given (for example `Authorization: Bearer ${GITHUB_TOKEN}`).
   */
  headers: z
    .record(headerNameSchema, z.string().max(10_000), {
      error: (issue) => (issue.code === 'invalid_key' ? 'must be an HTTP header name' : undefined),
    })
    .optional(),
  /** Grants whose credentials the server wants; it gets those the task also holds. */
  grants: z.array(grantSchema).max(64).optional(),
  /** How long the server has to answer `initialize` and list its tools. */
  startupTimeoutMs: startupTimeoutMsSchema.optional(),
});

/**
 * One MCP server of an agent definition, told apart by `transport`. `transport` may be left out: a server
 * with `command` is `stdio`, one with `url` is `http`. Parsed configurations always carry it.
 */
export const mcpServerConfigSchema = z.preprocess(
  inferTransport,
  z.discriminatedUnion('transport', [stdioMcpServerConfigSchema, httpMcpServerConfigSchema], {
    error: (issue) =>
      issue.code === 'invalid_union' ? 'must be "stdio" (with "command") or "http" (with "url")' : undefined,
  }),
);

/** A parsed stdio MCP server configuration. */
export type StdioMcpServerConfig = z.infer<typeof stdioMcpServerConfigSchema>;
/** A parsed HTTP MCP server configuration. */
export type HttpMcpServerConfig = z.infer<typeof httpMcpServerConfigSchema>;
/** A parsed MCP server configuration. */
export type McpServerConfig = z.infer<typeof mcpServerConfigSchema>;

/** The MCP servers of an agent definition: at most 16, with unique names. */
export const mcpServerConfigsSchema = z
  .array(mcpServerConfigSchema)
  // why: every server is a process or connection per activation and its tools fill the model's context;
  // 16 is far more than a useful agent needs.
  .max(16)
  .superRefine((servers, context) => {
    const seen = new Set<string>();
    servers.forEach((server, index) => {
      if (seen.has(server.name)) {
        context.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `duplicate server name "${server.name}"`,
        });
      }
      seen.add(server.name);
    });
  });

/** Adds `transport` to an object that leaves it out but has `command` or `url`. */
function inferTransport(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'transport' in value)
    return value;
  if ('command' in value && !('url' in value)) return { transport: 'stdio', ...value };
  if ('url' in value && !('command' in value)) return { transport: 'http', ...value };
  return value;
}
