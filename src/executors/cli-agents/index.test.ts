import { describe, expect, it } from 'vitest';
import { EXECUTOR_MODEL_PROVIDERS } from '../../core/executor-model-providers.ts';
import { CLI_AGENT_ADAPTERS, CLI_AGENT_NAMES, createCliAgentExecutors } from './index.ts';

describe('the CLI agents', () => {
  it('are one adapter per name, each speaking exactly the providers routing gives it', () => {
    expect(CLI_AGENT_ADAPTERS.map((adapter) => adapter.name)).toEqual([...CLI_AGENT_NAMES]);
    for (const adapter of CLI_AGENT_ADAPTERS) {
      expect([...adapter.providers].sort(), adapter.name).toEqual(
        [...(EXECUTOR_MODEL_PROVIDERS[adapter.name] ?? [])].sort(),
      );
    }
  });

  it('become executors for the runner, leaving out the disabled ones', () => {
    const executors = createCliAgentExecutors({
      goose: { enabled: false },
      aider: { binaryPath: '/opt/aider' },
    });
    expect(executors.map((executor) => executor.name)).toEqual([
      'claude-code',
      'codex',
      'opencode',
      'gemini-cli',
      'aider',
    ]);
    for (const executor of executors) expect(typeof executor.detect).toBe('function');
  });

  it('refuse executor input, which belongs in the runner configuration', () => {
    const [claude] = createCliAgentExecutors();
    expect(claude!.validateInput({ model: 'x' })).toEqual([
      { field: 'executorInput.model', reason: expect.stringContaining('takes no input') },
    ]);
    expect(claude!.validateInput({})).toEqual([]);
  });
});
