import type { Command } from '../command.js';

// Placeholder until the command lands; replaced by its implementation.
export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: '(not built yet)',
  usage: 'cs336 pipeline',
  async run() {
    console.error('cs336 pipeline: not built yet');
    return 1;
  },
};
