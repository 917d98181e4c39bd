#!/usr/bin/env node
// NovaCron's command line. The sources are TypeScript, run through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../api/cli.ts');
