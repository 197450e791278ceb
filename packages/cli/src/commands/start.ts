import type { Command } from 'commander';

// Placeholder registration so the CLI entry compiles while the command is being built.
export function registerStart(_program: Command): void {}
