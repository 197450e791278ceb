import type { Command } from 'commander';

// Placeholder registration so the CLI entry compiles while the command is being built.
export function registerImport(_program: Command): void {}
