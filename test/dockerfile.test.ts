/**
 * The container image, checked without a Docker engine: the Dockerfile parsed (dockerfile-ast) and held to
 * what the Kubernetes manifests and `docs/kubernetes.md` rely on, plus a `.dockerignore` that keeps local
 * state and secrets out of the build context.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/create-process-harness.ts';
import {
  argumentsTextOf,
  copySourceStageOf,
  execFormOf,
  finalUserOf,
  instructionsOf,
  propertiesOf,
  readDockerfile,
} from './support/kubernetes/read-dockerfile.ts';

const packageJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  license: string;
  engines: { node: string };
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};

describe('Dockerfile', () => {
  const { stages, preamble } = readDockerfile(REPO_ROOT);
  const final = stages.at(-1)!;
  const deps = stages.find((stage) => stage.name === 'deps');

  it('builds in named stages from a slim Debian Node image of the supported major version', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.name, `FROM ${stage.image} needs AS <name>`).toBeTruthy();
    const supportedMajor = /(\d+)/.exec(packageJson.engines.node)?.[1];
    for (const stage of stages) {
      expect(stage.image).toMatch(new RegExp(`^node:${supportedMajor}-bookworm-slim$`));
    }
    expect(preamble.map((instruction) => instruction.getKeyword())).toEqual(['ARG']);
  });

  it('installs the locked production dependencies in a stage with the native build tools', () => {
    expect(deps).toBeDefined();
    const copies = instructionsOf(deps!, 'COPY').map(argumentsTextOf);
    expect(copies).toContainEqual(expect.stringMatching(/package\.json package-lock\.json/));
    const runs = instructionsOf(deps!, 'RUN').map(argumentsTextOf);
    // better-sqlite3 is a native addon: node-gyp needs python3, make and a C++ compiler.
    expect(runs.join('\n')).toMatch(/install .*python3.* make .*g\+\+/);
    expect(runs).toContainEqual(expect.stringMatching(/npm (ci|install) .*--omit=dev/));
    // The final image gets node_modules from that stage and never runs npm itself.
    const fromDeps = instructionsOf(final, 'COPY').filter((copy) => copySourceStageOf(copy) === 'deps');
    expect(fromDeps.map(argumentsTextOf)).toEqual([expect.stringMatching(/node_modules/)]);
    expect(instructionsOf(final, 'RUN').map(argumentsTextOf).join('\n')).not.toMatch(/\bnpm\b/);
  });

  it('ships what `warren` runs: tsx as a runtime dependency, bin/ and src/', () => {
    expect(packageJson.dependencies.tsx).toBeDefined();
    expect(packageJson.bin.warren).toBe('bin/warren.js');
    const copied = instructionsOf(final, 'COPY')
      .filter((copy) => copySourceStageOf(copy) === undefined)
      .flatMap((copy) =>
        copy
          .getArguments()
          .slice(0, -1)
          .map((argument) => argument.getValue()),
      );
    expect(copied).toEqual(expect.arrayContaining(['bin', 'src', 'package.json']));
    for (const source of copied) expect(existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
  });

  it('installs git for the runners', () => {
    const runs = instructionsOf(final, 'RUN').map(argumentsTextOf).join('\n');
    expect(runs).toMatch(/apt-get install [^\n]*\bgit\b/);
  });

  it('runs as a fixed non-root numeric user that owns WARREN_HOME', () => {
    const user = finalUserOf(final);
    expect(user).toMatch(/^\d+(:\d+)?$/);
    const uid = Number(user!.split(':')[0]);
    expect(uid).toBeGreaterThan(0);
    // USER comes after every RUN of the stage, so nothing after it runs as root.
    const keywords = final.instructions.map((instruction) => instruction.getKeyword());
    expect(keywords.lastIndexOf('USER')).toBeGreaterThan(keywords.lastIndexOf('RUN'));

    const env = propertiesOf(final, 'ENV');
    expect(env.get('WARREN_HOME')).toBe('/var/lib/warren');
    const runs = instructionsOf(final, 'RUN').map(argumentsTextOf).join('\n');
    expect(runs).toContain(`--uid ${uid}`);
    expect(runs).toMatch(new RegExp(`chown ${uid}(:\\d+)? ${env.get('WARREN_HOME')}`));
  });

  it('puts no secrets in ENV or ARG', () => {
    for (const stage of stages) {
      for (const keyword of ['ENV', 'ARG'] as const) {
        for (const name of propertiesOf(stage, keyword).keys()) {
          expect(name).not.toMatch(/TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|DATABASE_URL|CREDENTIAL/i);
        }
      }
    }
  });

  it('is one image for hub and runner: ENTRYPOINT is warren, the default command a hub on all interfaces', () => {
    const entrypoint = execFormOf(instructionsOf(final, 'ENTRYPOINT').at(-1));
    expect(entrypoint?.slice(-2)).toEqual(['node', 'bin/warren.js']);
    const command = execFormOf(instructionsOf(final, 'CMD').at(-1));
    expect(command?.slice(0, 4)).toEqual(['up', '--no-runner', '--host', '0.0.0.0']);
    expect(instructionsOf(final, 'EXPOSE').map((expose) => expose.getArgumentsContent())).toEqual(['7420']);
  });

  it('carries the OCI labels, with the package license', () => {
    const labels = propertiesOf(final, 'LABEL');
    for (const name of ['title', 'description', 'version', 'revision', 'licenses']) {
      expect(labels.get(`org.opencontainers.image.${name}`), name).toBeTruthy();
    }
    expect(labels.get('org.opencontainers.image.licenses')).toBe(packageJson.license);
  });

  it('leaves out only files the `warren` command never loads (tests and testing helpers)', () => {
    // Every module reachable from the entry point through relative imports, static or dynamic.
    const seen = new Set<string>();
    const pending = [path.join(REPO_ROOT, 'src', 'cli', 'main.ts')];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+\.ts)'/g)) {
        pending.push(path.resolve(path.dirname(file), match[1]!));
      }
    }
    const loaded = [...seen].map((file) => path.relative(REPO_ROOT, file));
    expect(loaded.length).toBeGreaterThan(50);
    expect(loaded.filter((file) => /(^|\/)testing\/|\.test\.ts$|^test\//.test(file))).toEqual([]);
  });

  it('has a .dockerignore that keeps local state, dependencies and secrets out of the context', () => {
    const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', '.warren', '.env']));
    // Nothing the image copies is ignored.
    for (const needed of ['bin', 'src', 'package.json', 'package-lock.json'])
      expect(ignored).not.toContain(needed);
  });
});
