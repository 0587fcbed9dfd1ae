/**
 * The Goose CLI agent (`goose`, a Rust binary from aaif-goose/goose, formerly block/goose). One activation
 * is one `goose run` reading the prompt from stdin and printing stream-json events. Flags are those of
 * `crates/goose-cli/src/cli.rs` (`goose run`: `--instructions`, `--name`, `--resume`, `--output-format`,
 * `--quiet`); `--output-format stream-json` needs a Goose of 2025 or later. Everything Goose keeps (config,
 * sessions, logs) lives under the activation home through the XDG variables:
 * `$XDG_CONFIG_HOME/goose/config.yaml`, `$XDG_DATA_HOME/goose/sessions/`, `$XDG_STATE_HOME/goose/logs/`.
 */
import path from 'node:path';
import type { CliActivation, CliAgentAdapter, CliInvocation } from '../cli-agent-adapter.ts';
import { createCliAgentExecutor, type CliAgentExecutorOptions } from '../create-cli-agent-executor.ts';
import { routedEndpoint } from '../routed-endpoint.ts';
import { gooseEndpointEnv } from './goose-endpoint.ts';
import { createGooseOutputParser } from './parse-goose-output.ts';

// Goose's config: auto mode (no tool confirmations, which a headless run cannot answer: newer Goose
// refuses to run in approve modes without a terminal), telemetry off, and only the developer extension
// (shell and file editing). The extension entry is the one `goose configure` writes.
const configYaml = `GOOSE_MODE: auto
GOOSE_TELEMETRY_ENABLED: false
extensions:
  developer:
    bundled: true
    display_name: Developer
    enabled: true
    name: developer
    timeout: 300
    type: builtin
`;

/** The Goose adapter. */
export const gooseAdapter: CliAgentAdapter = {
  name: 'goose',
  binary: 'goose',
  providers: ['openai', 'openai-compatible', 'anthropic', 'google'],
  prepare: (activation) => gooseInvocation(activation, false),
  // A fix round continues the attempt's named session (`goose run --resume --name`).
  prepareResume: (activation) => gooseInvocation(activation, true),
  createParser: createGooseOutputParser,
};

/** Builds the Goose executor; the binary is `goose` on PATH unless configured. */
export function createGooseExecutor(options?: CliAgentExecutorOptions) {
  return createCliAgentExecutor(gooseAdapter, options);
}

/** The name of an attempt's Goose session: stable across its fix rounds, unique in its private home. */
export function gooseSessionName(activation: CliActivation): string {
  return `warren-${activation.context.attempt.id}`;
}

function gooseInvocation(activation: CliActivation, resume: boolean): CliInvocation {
  const home = activation.homeDir;
  const configHome = path.join(home, '.config');
  const env: Record<string, string> = {
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    GOOSE_MODE: 'auto',
    // why: the keyring is the desktop's Secret Service over D-Bus, absent on a runner (and a hang or an
    // error when Goose asks it); keys come from the environment instead.
    GOOSE_DISABLE_KEYRING: '1',
    // why: Goose sends PostHog telemetry unless this (or the config key above) says no.
    GOOSE_TELEMETRY_OFF: '1',
    NO_COLOR: '1',
    ...routedEndpoint(activation, gooseEndpointEnv),
  };
  const args = [
    'run',
    // The prompt on stdin ("-"): it may be long, and argv is visible to every process.
    '--instructions',
    '-',
    ...(resume ? ['--resume'] : []),
    '--name',
    gooseSessionName(activation),
    '--output-format',
    'stream-json',
    // No session banner on stdout: stdout is the event stream.
    '--quiet',
    ...activation.extraArgs,
  ];
  return {
    args,
    env,
    stdin: activation.prompt,
    files: { [path.join(configHome, 'goose', 'config.yaml')]: configYaml },
  };
}
