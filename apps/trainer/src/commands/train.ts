import type { Command } from '../command.js';

// Placeholder until the command lands; replaced by its implementation.
export const trainCommand: Command = {
  name: 'train',
  summary: '(not built yet)',
  usage: 'cs336 train',
  async run() {
    console.error('cs336 train: not built yet');
    return 1;
  },
};
