/**
 * A growable list of token ids in one Int32Array, reused from call to call.
 *
 * encodeFile's jobs append here instead of to a `number[]`: a worker encoding a multi-GB file would
 * otherwise build (and regrow, and copy into a typed array) a fresh megabytes-long array per job,
 * and that garbage kept V8's GC helper threads busy on the cores the encoders need.
 */
export class IdBuffer {
  ids: Int32Array;
  length = 0;

  constructor(capacity = 1024) {
    this.ids = new Int32Array(capacity);
  }

  push(id: number): void {
    if (this.length === this.ids.length) this.grow();
    this.ids[this.length++] = id;
  }

  /** The ids pushed so far, as a view (valid until the next push). */
  view(): Int32Array {
    return this.ids.subarray(0, this.length);
  }

  clear(): void {
    this.length = 0;
  }

  private grow(): void {
    const bigger = new Int32Array(this.ids.length * 2);
    bigger.set(this.ids);
    this.ids = bigger;
  }
}
