import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
  description: string;
  license: string;
};

/** Every help text of the CLI, the program's and each (sub)command's. */
function helpTexts(): string[] {
  const program = buildProgram();
  const all = [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)];
  return all.map((command) => command.helpInformation());
}

describe('what the package says about itself', () => {
  it('ships the Apache-2.0 licence its package.json names', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const text = readFileSync(new URL('LICENSE', root), 'utf8');
    expect(text).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
  });

  // A feature is advertised only once the command (or route) for it exists.
  const program = buildProgram();
  const commands = new Set(program.commands.map((c) => c.name()));
  it.skipIf(commands.has('syncs'))('does not advertise syncs before there is a `syncs` command', () => {
    expect(pkg.description).not.toMatch(/sync/i);
    for (const help of helpTexts()) expect(help).not.toMatch(/sync/i);
  });

  // The dashboard is the UI module's routes under /ui/ (src/ui/); until they exist nothing may name it.
  const dashboardServed = existsSync(new URL('src/ui/ui-routes.ts', root));
  it.skipIf(dashboardServed)('does not advertise a dashboard before one is served', () => {
    const cli = readFileSync(new URL('docs/cli.md', root), 'utf8');
    expect(cli).not.toMatch(/dashboard/i);
    expect(pkg.description).not.toMatch(/dashboard/i);
    for (const help of helpTexts()) expect(help).not.toMatch(/dashboard/i);
  });
});
