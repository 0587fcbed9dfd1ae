/**
 * The repository's Dockerfile, parsed with `dockerfile-ast` into build stages, with the few facts the tests
 * check and the Kubernetes manifests must agree with (the user, the environment, the entrypoint).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DockerfileParser,
  From,
  JSONInstruction,
  ModifiableInstruction,
  PropertyInstruction,
  type Dockerfile,
  type Instruction,
} from 'dockerfile-ast';

/** One build stage: its FROM and the instructions up to the next FROM. */
export interface DockerfileStage {
  /** The `AS` name, if any. */
  name?: string;
  /** The base image with build arguments resolved, e.g. `node:20-bookworm-slim`. */
  image: string;
  instructions: Instruction[];
}

/** The parsed Dockerfile. */
export interface ParsedDockerfile {
  dockerfile: Dockerfile;
  /** Instructions before the first FROM (global ARGs). */
  preamble: Instruction[];
  stages: DockerfileStage[];
}

/** Parses `<repositoryRoot>/Dockerfile`. */
export function readDockerfile(repositoryRoot: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(readFileSync(path.join(repositoryRoot, 'Dockerfile'), 'utf8'));
  const preamble: Instruction[] = [];
  const stages: DockerfileStage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction instanceof From) {
      const image = instruction.getExpandedArguments()[0]?.getValue() ?? '';
      stages.push({ name: instruction.getBuildStage() ?? undefined, image, instructions: [instruction] });
    } else if (stages.length === 0) {
      preamble.push(instruction);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { dockerfile, preamble, stages };
}

/** The instructions of a stage with this keyword (`RUN`, `COPY`, ...). */
export function instructionsOf(stage: DockerfileStage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.getKeyword() === keyword);
}

/** The properties of a stage's ENV, LABEL or ARG instructions, later ones winning; quotes removed. */
export function propertiesOf(stage: DockerfileStage, keyword: 'ENV' | 'LABEL' | 'ARG'): Map<string, string> {
  const properties = new Map<string, string>();
  for (const instruction of instructionsOf(stage, keyword)) {
    if (!(instruction instanceof PropertyInstruction)) continue;
    for (const property of instruction.getProperties()) {
      properties.set(property.getName(), unquote(property.getUnescapedValue() ?? ''));
    }
  }
  return properties;
}

/** The exec form (`["node", "bin/warren.js"]`) of an ENTRYPOINT or CMD, or undefined for the shell form. */
export function execFormOf(instruction: Instruction | undefined): string[] | undefined {
  if (!(instruction instanceof JSONInstruction)) return undefined;
  const strings = instruction.getJSONStrings();
  return strings.length > 0 ? strings.map((argument) => argument.getJSONValue()) : undefined;
}

/** The user the stage ends with, as written (`10001:10001`), or undefined when it sets none. */
export function finalUserOf(stage: DockerfileStage): string | undefined {
  return instructionsOf(stage, 'USER').at(-1)?.getArgumentsContent() ?? undefined;
}

/** The arguments of an instruction as one string (for RUN and COPY), without line continuations. */
export function argumentsTextOf(instruction: Instruction): string {
  return instruction
    .getArguments()
    .map((argument) => argument.getValue())
    .join(' ');
}

/** The stage a COPY takes its files from (`--from=deps`), or undefined for the build context. */
export function copySourceStageOf(instruction: Instruction): string | undefined {
  if (!(instruction instanceof ModifiableInstruction)) return undefined;
  const from = instruction.getFlags().find((flag) => flag.getName() === 'from');
  return from?.getValue() ?? undefined;
}

function unquote(value: string): string {
  return /^"(.*)"$/s.exec(value)?.[1] ?? value;
}
