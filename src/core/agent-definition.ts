/**
 * Agent definitions: a named agent (`claude-coder-1`), the executor that runs it, its model settings,
 * capabilities (grants, skills, MCP servers) and behaviour, kept as one YAML file per agent in a
 * definitions directory or Git repository (`agents/<name>.yaml`). A definition is separate from the
 * runners that execute it.
 *
 * The parsed type keeps the file's snake_case keys (`cache_ttl`, `max_active`, `respond_to_mentions`) so
 * that the YAML, the API's JSON and the TypeScript all read the same; see docs/agents.md.
 */
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { modelSelectorSchema } from './model-selector.ts';
import { capabilityNameSchema, executorNameSchema, LIMITS } from './types.ts';

/** An agent's name: lowercase letters, digits and `-`, as in its file name `agents/<name>.yaml`. */
export const agentNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    'must be lowercase letters, digits and - (not first or last), such as "claude-coder-1"',
  );

/** A skill's name, which is also its folder `skills/<name>/`: lowercase letters, digits, `_` and `-`. */
export const skillNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a skill folder name: lowercase letters, digits, _ and -');

/** The name of an MCP server the agent may use, such as `github`. */
export const mcpServerNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, _ and -');

/** Limits of a definition file. */
export const AGENT_DEFINITION_LIMITS = {
  // why: a definition is a few hundred bytes; 64 KiB leaves room for a long description and refuses a
  // file committed into agents/ by mistake before it is parsed.
  fileBytes: 64 * 1024,
  // why: a description is a paragraph for people choosing an agent, not instructions (those are skills).
  descriptionLength: 2_000,
  // why: every skill named is put into the agent's context; dozens already crowd a context window.
  skills: 64,
  // why: each MCP server is a process per activation; 32 is far beyond any useful set.
  mcpServers: 32,
  // why: a per-agent concurrency of 1,000 is effectively unlimited for one hub's runners.
  maxActive: 1_000,
  // why: one day; a definition cached longer is never seen to change by the people editing it.
  cacheTtlSeconds: 86_400,
} as const;

/** The default `cache_ttl`, in seconds. why: five minutes shows a merged change soon, at one fetch per five minutes. */
export const DEFAULT_CACHE_TTL_SECONDS = 300;

/** A list without repeats: a repeat is almost always a copy-paste slip, so it is refused by index. */
function uniqueList<Item extends z.ZodType<string>>(item: Item, max: number) {
  return z
    .array(item)
    .max(max)
    .superRefine((values, context) => {
      const seen = new Set<string>();
      for (const [index, value] of values.entries()) {
        if (seen.has(value)) {
          context.addIssue({ code: 'custom', path: [index], message: `"${value}" is listed twice` });
        }
        seen.add(value);
      }
    });
}

/** `brain`: the model the executor runs on and how. */
export const agentBrainSchema = z.strictObject({
  /** A model selector: a tier (`frontier`) or a pin (`anthropic/claude-sonnet-4-5`); see model-selector.ts. */
  model: modelSelectorSchema.optional(),
  temperature: z.number().min(0, 'must be at least 0').max(2, 'must be at most 2').optional(),
});

/** `capabilities`: what the agent may do and what it knows. */
export const agentCapabilitiesSchema = z.strictObject({
  /** Capabilities given to the agent's tasks, such as `github:write` (see `grants` on a task). */
  grants: uniqueList(capabilityNameSchema, LIMITS.grants).default([]),
  /** Skills (folders `skills/<name>/` of the same source) put into the agent's context when a task needs them. */
  skills: uniqueList(skillNameSchema, AGENT_DEFINITION_LIMITS.skills).default([]),
  /** MCP servers the agent may use, by name. */
  mcp_servers: uniqueList(mcpServerNameSchema, AGENT_DEFINITION_LIMITS.mcpServers).default([]),
});

/** `behavior`: how the agent acts. */
export const agentBehaviorSchema = z.strictObject({
  /** Whether the agent takes work when it is mentioned (`@claude-coder-1`). */
  respond_to_mentions: z.boolean().default(false),
  /** Most iterations (model turns) of one activation; the executor's own default without it. */
  max_iterations: z.number().int().min(1, 'must be at least 1').max(1_000, 'must be at most 1000').optional(),
});

/** One agent definition file, as written (snake_case keys, strict: unknown fields are errors). */
export const agentDefinitionSchema = z.strictObject({
  name: agentNameSchema,
  description: z.string().max(AGENT_DEFINITION_LIMITS.descriptionLength).optional(),
  /** The executor that runs the agent, such as `claude-code`, `codex` or `agent`. */
  type: executorNameSchema,
  brain: agentBrainSchema.default({}),
  capabilities: agentCapabilitiesSchema.default({ grants: [], skills: [], mcp_servers: [] }),
  behavior: agentBehaviorSchema.default({ respond_to_mentions: false }),
  /** Seconds a loaded definition is served before its source is read again. 0: read on every use. */
  cache_ttl: z
    .number()
    .int('must be a whole number of seconds')
    .min(0, 'must be at least 0')
    .max(
      AGENT_DEFINITION_LIMITS.cacheTtlSeconds,
      `must be at most ${AGENT_DEFINITION_LIMITS.cacheTtlSeconds} (one day)`,
    )
    .default(DEFAULT_CACHE_TTL_SECONDS),
  /** Tasks of this agent that may be active at once. why 1: one agent, one task, unless it says otherwise. */
  max_active: z
    .number()
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(AGENT_DEFINITION_LIMITS.maxActive, `must be at most ${AGENT_DEFINITION_LIMITS.maxActive}`)
    .default(1),
});

/** A parsed agent definition with defaults applied (keys as in the file). */
export type AgentDefinition = z.output<typeof agentDefinitionSchema>;
/** An agent definition as written. */
export type AgentDefinitionInput = z.input<typeof agentDefinitionSchema>;

/** Why a definition file (or the source holding it) was rejected. */
export interface AgentDefinitionProblem {
  /** The file, relative to the source's root (`agents/coder.yaml`), or the source itself for fetch failures. */
  file: string;
  /** Dotted path of the field (`brain.temperature`, `capabilities.skills.1`); empty for the whole file. */
  field: string;
  /** Why, in words a person can act on. */
  reason: string;
  /** The 1-based line the problem is on, when known. */
  line?: number;
}

/** What {@link parseAgentDefinitionFile} found: the definition, or every problem with the file. */
export type AgentDefinitionFileResult =
  { ok: true; definition: AgentDefinition } | { ok: false; problems: AgentDefinitionProblem[] };

/** The extensions a definition file may have. */
export const AGENT_DEFINITION_EXTENSIONS = ['.yaml', '.yml'] as const;

// why: a YAML bomb (aliases of aliases) expands exponentially; a definition needs no aliases at all.
const maxAliasCount = 100;
// why: after a few syntax errors the rest are usually consequences of the first.
const maxSyntaxProblems = 5;

/** Known keys of each mapping, for "did you mean" hints on unknown fields. */
const knownFields: Record<string, readonly string[]> = {
  '': Object.keys(agentDefinitionSchema.shape),
  brain: Object.keys(agentBrainSchema.shape),
  capabilities: Object.keys(agentCapabilitiesSchema.shape),
  behavior: Object.keys(agentBehaviorSchema.shape),
};

/**
 * Parses one definition file. `file` is its path as shown to people (`agents/coder.yaml`); its base name
 * without `.yaml`/`.yml` must equal the definition's `name`. Never throws: YAML syntax errors name their
 * line, schema problems name the dotted field (and the line it is on), and a name that does not match the
 * file name is a problem naming both.
 */
export function parseAgentDefinitionFile(file: string, text: string): AgentDefinitionFileResult {
  const fail = (problem: Omit<AgentDefinitionProblem, 'file'>): AgentDefinitionFileResult => ({
    ok: false,
    problems: [{ file, ...problem }],
  });
  const stem = fileStemOf(file);
  if (stem === undefined) {
    return fail({ field: '', reason: 'a definition file must be named <name>.yaml or <name>.yml' });
  }
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > AGENT_DEFINITION_LIMITS.fileBytes) {
    return fail({
      field: '',
      reason: `is ${bytes} bytes; a definition file may be at most ${AGENT_DEFINITION_LIMITS.fileBytes}`,
    });
  }

  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.slice(0, maxSyntaxProblems).map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return {
          file,
          field: '',
          reason: `YAML syntax error at line ${line}, column ${col}: ${error.message}`,
          line,
        };
      }),
    };
  }
  if (document.contents === null) {
    return fail({
      field: '',
      reason: 'is empty; it must hold a mapping such as `name: ...` and `type: ...`',
    });
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount });
  } catch (error) {
    return fail({ field: '', reason: `cannot be read as YAML: ${(error as Error).message}` });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail({
      field: '',
      reason: `must be a mapping of fields (name, type, ...), not ${Array.isArray(raw) ? 'a list' : 'a single value'}`,
      line: 1,
    });
  }

  const lineOf = (path: ReadonlyArray<PropertyKey>) => lineOfPath(document, lineCounter, path);
  const parsed = agentDefinitionSchema.safeParse(raw);
  if (!parsed.success) {
    const problems: AgentDefinitionProblem[] = [];
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const path = [...issue.path, key];
          problems.push({
            file,
            field: dotted(path),
            reason: unknownFieldReason(dotted(issue.path), key),
            ...lineField(lineOf(path)),
          });
        }
        continue;
      }
      problems.push({
        file,
        field: dotted(issue.path),
        reason: issue.message,
        ...lineField(lineOf(issue.path)),
      });
    }
    // In the order of the file, as a person fixes them.
    problems.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
    return { ok: false, problems };
  }
  if (parsed.data.name !== stem) {
    return fail({
      field: 'name',
      reason: `is "${parsed.data.name}" but the file is named ${baseNameOf(file)}; rename the file to ${parsed.data.name}${extensionOf(file)} or set name: ${stem}`,
      ...lineField(lineOf(['name'])),
    });
  }
  return { ok: true, definition: parsed.data };
}

/** Whether `file` has a definition file's extension. */
export function isAgentDefinitionFileName(file: string): boolean {
  return fileStemOf(file) !== undefined;
}

function baseNameOf(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}

function extensionOf(file: string): string {
  return AGENT_DEFINITION_EXTENSIONS.find((extension) => file.endsWith(extension)) ?? '.yaml';
}

/** `agents/coder.yaml` → `coder`; undefined without a definition extension. */
function fileStemOf(file: string): string | undefined {
  const base = baseNameOf(file);
  const extension = AGENT_DEFINITION_EXTENSIONS.find((candidate) => base.endsWith(candidate));
  if (extension === undefined || base.length === extension.length) return undefined;
  return base.slice(0, -extension.length);
}

function dotted(path: ReadonlyArray<PropertyKey>): string {
  return path.map(String).join('.');
}

function lineField(line: number | undefined): { line?: number } {
  return line === undefined ? {} : { line };
}

function unknownFieldReason(parent: string, key: string): string {
  const known = knownFields[parent];
  if (known === undefined) return 'unknown field';
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
  const suggestion = known.includes(snake) ? `; did you mean ${snake}?` : '';
  return `unknown field${suggestion} (known: ${known.join(', ')})`;
}

/**
 * The line of the node at `path`, or of its nearest ancestor that exists (a missing field is reported on
 * the mapping that lacks it). For an unknown key, the key's own line.
 */
function lineOfPath(
  document: Document,
  lineCounter: LineCounter,
  path: ReadonlyArray<PropertyKey>,
): number | undefined {
  for (let length = path.length; length >= 0; length -= 1) {
    const parentPath = path.slice(0, length - 1);
    const parent = length === 0 ? undefined : document.getIn(parentPath, true);
    const key = path[length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) return lineCounter.linePos(range[0]).line;
    }
    const node = document.getIn(path.slice(0, length), true) as
      { range?: [number, number, number] } | undefined;
    if (node?.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}
