/**
 * Where a hub reads agent definitions from: a directory, or a Git repository (URL and ref, optionally a
 * folder inside it). Either holds `agents/<name>.yaml` and `skills/<name>/` (docs/agents.md).
 */
import { z } from 'zod';

/** A folder inside a repository: relative, `/`-separated, without `.` or `..` segments. */
const repositoryFolderSchema = z
  .string()
  .min(1)
  .max(1_000)
  .transform((value) => value.replace(/^\.\/+/, '').replace(/\/+$/, ''))
  .refine(
    (value) =>
      value !== '' &&
      !value.startsWith('/') &&
      value.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..'),
    'must be a relative folder inside the repository, such as "warren" (no leading /, no . or ..)',
  );

/** A Git source of agent definitions. */
export const gitAgentSourceSchema = z.strictObject({
  /** A URL git understands (`https://`, `ssh://`, `git@host:path`, `file://`) or a local path. */
  url: z
    .string()
    .min(1)
    .max(2_000)
    .refine((value) => !value.startsWith('-'), 'must be a URL or a path, not an option'),
  /** A branch (followed as it moves), a tag, or a commit sha (pinned). */
  ref: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a branch, tag or commit such as "main"')
    .refine((value) => !value.includes('..') && !value.endsWith('/'), 'must be a valid git ref name'),
  /** The folder holding `agents/` and `skills/`; default the repository's root. */
  path: repositoryFolderSchema.optional(),
});

/** A Git source of agent definitions. */
export type GitAgentSource = z.output<typeof gitAgentSourceSchema>;

/** Where agent definitions come from: exactly one of a directory or a Git repository. */
export type AgentSourceConfig = { directory: string } | { git: GitAgentSource };

/**
 * The `agents` setting of a hub: `{ directory }` or `{ git: { url, ref, path? } }`. Problems name the field
 * (`git.ref`), and giving both or neither is refused.
 */
export const agentSourceConfigSchema = z
  .strictObject({
    /** A directory holding `agents/` and `skills/`. */
    directory: z.string().min(1).max(4_096).optional(),
    git: gitAgentSourceSchema.optional(),
  })
  .superRefine((value, context) => {
    if ((value.directory === undefined) === (value.git === undefined)) {
      context.addIssue({
        code: 'custom',
        path: [],
        message: 'give exactly one of "directory" or "git" ({ url, ref, path? })',
      });
    }
  })
  .transform((value): AgentSourceConfig =>
    value.git === undefined ? { directory: value.directory ?? '' } : { git: value.git },
  );

/** The `agents` setting as written. */
export type AgentSourceConfigInput = z.input<typeof agentSourceConfigSchema>;
