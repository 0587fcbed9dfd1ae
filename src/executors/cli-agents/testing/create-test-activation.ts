/**
 * A CLI activation for adapter tests, so each test names only what its CLI's invocation shows.
 */
import type { ModelAssignment } from '../../../core/model-endpoints.ts';
import { createTestContext } from '../../testing/create-test-context.ts';
import type { CliActivation } from '../cli-agent-adapter.ts';

/**
 * The first round of `model`, at its endpoint's own base URL, in a test context working in `worktree`,
 * with no extra arguments; `fields` give the binary, the home and the prompt, and override any of these.
 */
export function createTestActivation(
  worktree: string,
  model: ModelAssignment,
  fields: Pick<CliActivation, 'binaryPath' | 'homeDir' | 'prompt'> & Partial<CliActivation>,
): CliActivation {
  return {
    context: createTestContext(worktree),
    model,
    baseUrl: model.endpoint.baseUrl,
    extraArgs: [],
    round: 1,
    ...fields,
  };
}
