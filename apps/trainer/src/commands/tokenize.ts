import type { Command } from '../command.js';

// Placeholder until the command lands; replaced by its implementation.
export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: '(not built yet)',
  usage: 'cs336 tokenize',
  async run() {
    console.error('cs336 tokenize: not built yet');
    return 1;
  },
};
