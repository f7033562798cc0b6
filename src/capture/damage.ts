/** A capture file that cannot be read further: where, and why. Everything before `offset` was processed. */
export class CaptureDamage {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {}

  get message(): string {
    return `${this.file}: damaged at byte offset ${this.offset}: ${this.reason}`;
  }
}

/** An input that is not a capture at all, or cannot be opened. Nothing was processed. */
export class CaptureOpenError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
  }
}
