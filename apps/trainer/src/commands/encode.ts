import type { Command } from '../command.js';

// Placeholder until the command lands; replaced by its implementation.
export const encodeCommand: Command = {
  name: 'encode',
  summary: '(not built yet)',
  usage: 'cs336 encode',
  async run() {
    console.error('cs336 encode: not built yet');
    return 1;
  },
};
