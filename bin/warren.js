#!/usr/bin/env node
// Entry point for the `warren` command: loads the TypeScript sources through tsx.
/* global process */
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
