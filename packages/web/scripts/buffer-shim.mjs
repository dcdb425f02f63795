// Interim, until @cs336/tokenizer's main entry stops using Node's Buffer: the one call the page
// reaches (Buffer.from(arrayBuffer, offset, length).toString('latin1') in the BPE encoder's tables).
export const Buffer = {
  from(buffer, offset = 0, length) {
    const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer, offset, length ?? buffer.byteLength - offset);
    return {
      toString(encoding) {
        if (encoding !== 'latin1') throw new Error(`buffer-shim: only latin1, not ${encoding}`);
        let text = '';
        for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
        return text;
      },
    };
  },
};
