import type { Command } from '../command.js';

// Placeholder until the command lands; replaced by its implementation.
export const generateCommand: Command = {
  name: 'generate',
  summary: '(not built yet)',
  usage: 'cs336 generate',
  async run() {
    console.error('cs336 generate: not built yet');
    return 1;
  },
};
