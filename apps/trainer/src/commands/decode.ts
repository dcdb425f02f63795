import type { Command } from '../command.js';

// Placeholder until the command lands; replaced by its implementation.
export const decodeCommand: Command = {
  name: 'decode',
  summary: '(not built yet)',
  usage: 'cs336 decode',
  async run() {
    console.error('cs336 decode: not built yet');
    return 1;
  },
};
