/** The integer type of a token file: uint16 while every id fits, uint32 beyond 65,536 ids. */
export type TokenDtype = 'uint16' | 'uint32';

export function tokenDtype(vocabSize: number): TokenDtype {
  return vocabSize <= 0x10000 ? 'uint16' : 'uint32';
}
