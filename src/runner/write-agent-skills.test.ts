import { access, constants, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/logger.ts';
import { writeAgentSkills } from './write-agent-skills.ts';

describe('writeAgentSkills', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'warren-skills-'));
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes instructions and files with content, scripts executable, and nothing outside the skills dir', async () => {
    const skillsDir = path.join(root, 'attempt', 'skills');
    const written = await writeAgentSkills(
      skillsDir,
      [
        {
          name: 'github-pr',
          instructionsFile: 'skills/github-pr/README.md',
          instructions: '# Pull requests\n',
          files: [
            { path: 'scripts/open.sh', size: 19, content: '#!/bin/sh\necho pr\n' },
            { path: 'templates/body.md', size: 6, content: 'Body.\n' },
            { path: 'logo.png', size: 10, omitted: 'binary' },
            { path: '../../escape.txt', size: 3, content: 'no\n' },
          ],
        },
        { name: '../bad', instructionsFile: 'skills/bad/SKILL.md', instructions: 'x', files: [] },
      ],
      silentLogger,
    );
    expect(written).toEqual({ files: 3, skipped: 3 });
    const skill = path.join(skillsDir, 'github-pr');
    expect(await readFile(path.join(skill, 'README.md'), 'utf8')).toBe('# Pull requests\n');
    expect(await readFile(path.join(skill, 'templates/body.md'), 'utf8')).toBe('Body.\n');
    await access(path.join(skill, 'scripts/open.sh'), constants.X_OK);
    await expect(access(path.join(skill, 'templates/body.md'), constants.X_OK)).rejects.toThrow();
    await expect(access(path.join(skill, 'logo.png'))).rejects.toThrow();
    expect((await readdir(path.join(root, 'attempt'))).sort()).toEqual(['skills']);
    expect(await readdir(skillsDir)).toEqual(['github-pr']);
  });
});
