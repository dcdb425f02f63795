import type { Command } from '../command.js';

// Placeholder until the command lands; replaced by its implementation.
export const bpeTrainCommand: Command = {
  name: 'bpe train',
  summary: '(not built yet)',
  usage: 'cs336 bpe train',
  async run() {
    console.error('cs336 bpe train: not built yet');
    return 1;
  },
};
