/**
 * The `config.toml` Codex reads from its private `CODEX_HOME` in one activation: the routed endpoint as a
 * custom model provider, the model, the sandbox and approval policy, and every switch that keeps Codex's
 * traffic on the model endpoint.
 *
 * Traffic: with none of these switches, `codex exec` 0.169.0 opens connections to github.com and
 * api.github.com (plugin sync), chatgpt.com and ab.chatgpt.com (analytics, OTel metrics) on every run,
 * besides the model endpoint (seen through a logging proxy). `features.plugins = false` stops the first
 * three; `[analytics]` and `[otel]` stop the last (either alone did in those runs; both are set). `apps`
 * and `remote_plugin` are off too, so that a later version that splits them off stays quiet.
 * `unbounded_connection_retries` is on by default and makes Codex wait for the network forever when the
 * endpoint cannot be reached; off, an unreachable endpoint fails the run after the retries below. Every
 * key here is one `codex exec --strict-config` accepts: a key a later version drops fails the run loudly
 * instead of being ignored.
 *
 * Sandbox: `workspace-write` lets Codex's shell and patch tools write only in the worktree (its working
 * directory), `/tmp` and `$TMPDIR`; `.git` stays read-only (Warren commits). It works as root: Codex's
 * Linux sandbox (its bundled bubblewrap plus seccomp) mounts the rest of the file system read-only, so a
 * command run as root that writes to `/root` fails with "Read-only file system". `network_access` is on,
 * as every other CLI agent's shell has the network: a task's criteria may need to install packages, and
 * its granted credentials are for tools that talk to services. `approval_policy = "never"`: nobody is
 * there to approve, so a refused command comes back to the model as a failure.
 *
 * Environment of the agent's commands: `shell_environment_policy` passes the task's environment through
 * (its granted credentials are for those commands; Codex's default filter would drop any variable named
 * like `*TOKEN*`, `*KEY*` or `*SECRET*`), except the variable holding the endpoint's key.
 */
import type { ModelAssignment } from '../../../core/model-endpoints.ts';

/** Codex's name for the routed endpoint in `[model_providers]`. */
export const codexProviderId = 'warren';
/** The environment variable Codex reads the endpoint's key from (the provider's `env_key`). */
export const codexApiKeyVariable = 'WARREN_CODEX_API_KEY';

// why: Codex retries a failed model call 5 times (`stream_max_retries`), each time with 4 HTTP retries
// of its own (`request_max_retries`): 30 requests and about 25 s before a persistent 500 or a 401 fails.
// Three retries match Warren's own agent loop and Claude Code's adapter; the runner retries the attempt
// when the failure is transient.
const streamMaxRetries = 3;
const requestMaxRetries = 0;

/** What the configuration depends on. */
export interface CodexConfigInput {
  /** The routed model, when the task has one; without it Codex uses its own default provider. */
  model?: ModelAssignment;
  /** The endpoint's base URL as given to the CLI (SDK style, ending in `/v1`); Codex appends `/responses`. */
  baseUrl?: string;
  /** Whether there is a key; without one Codex sends no `Authorization` header. */
  hasApiKey: boolean;
}

/** The `config.toml` text for one activation. */
export function codexConfigToml(input: CodexConfigInput): string {
  const { model } = input;
  const lines: string[] = ['# Written by Warren for one activation; see codex-config.ts.'];
  if (model) {
    lines.push(`model_provider = ${tomlString(codexProviderId)}`);
    lines.push(`model = ${tomlString(model.model)}`);
    // Codex knows the context windows of OpenAI's models only; a routed model's configured one wins.
    if (model.contextWindow !== undefined) lines.push(`model_context_window = ${model.contextWindow}`);
  }
  lines.push(
    'approval_policy = "never"',
    'sandbox_mode = "workspace-write"',
    'check_for_update_on_startup = false',
  );
  if (model) {
    lines.push('', `[model_providers.${codexProviderId}]`);
    lines.push(`name = ${tomlString(`Warren endpoint ${model.endpoint.name}`)}`);
    lines.push(`base_url = ${tomlString(input.baseUrl ?? model.endpoint.baseUrl)}`);
    // The Responses API only: Codex 0.169 refuses `wire_api = "chat"` at startup.
    lines.push('wire_api = "responses"');
    if (input.hasApiKey) lines.push(`env_key = ${tomlString(codexApiKeyVariable)}`);
    const headers = Object.entries(model.endpoint.headers ?? {});
    if (headers.length > 0) {
      const table = headers.map(([name, value]) => `${tomlString(name)} = ${tomlString(value)}`).join(', ');
      lines.push(`http_headers = { ${table} }`);
    }
    lines.push(`stream_max_retries = ${streamMaxRetries}`, `request_max_retries = ${requestMaxRetries}`);
  }
  lines.push(
    '',
    '[sandbox_workspace_write]',
    'network_access = true',
    '',
    '[shell_environment_policy]',
    'inherit = "all"',
    'ignore_default_excludes = true',
    `exclude = [${tomlString(codexApiKeyVariable)}]`,
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[otel]',
    'exporter = "none"',
    'trace_exporter = "none"',
    'metrics_exporter = "none"',
    '',
    '[features]',
    'plugins = false',
    'apps = false',
    'remote_plugin = false',
    'unbounded_connection_retries = false',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * A TOML basic string. JSON's string escapes (`\"`, `\\`, `\n`, `\uXXXX`, ...) are all valid TOML escapes,
 * so a JSON string literal is a TOML one.
 */
function tomlString(value: string): string {
  return JSON.stringify(value);
}
