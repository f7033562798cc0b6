/**
 * Byte ranges held out of order: TCP segments waiting for a gap to fill, IP fragments waiting
 * for the rest of their datagram. Overlaps are resolved the way a target host would, by a
 * policy that compares the new segment with each old one it overlaps (target-based
 * reassembly, Novak and Sturges 2007, as Suricata implements it).
 */

/**
 * Decides whether the new segment's bytes replace an old segment's bytes where they overlap.
 * Ranges are [start, end) of the whole original segments, not of the overlapping part.
 */
export type NewDataWins = (newStart: number, newEnd: number, oldStart: number, oldEnd: number) => boolean;

/** A contiguous run of held bytes; `segStart`/`segEnd` are the range of the segment it came from. */
export interface Piece {
  start: number;
  end: number;
  data: Uint8Array;
  segStart: number;
  segEnd: number;
}

export interface InsertResult {
  /** The new segment overlapped held data. */
  overlapped: boolean;
  /** Some overlapping bytes differed: the policy mattered (an evasion sign). */
  different: boolean;
}

const NO_OVERLAP: InsertResult = { overlapped: false, different: false };

/** Pieces sorted by start, never overlapping each other. */
export class PieceList {
  readonly pieces: Piece[] = [];
  /** Bytes held. */
  bytes = 0;

  get first(): Piece | undefined {
    return this.pieces[0];
  }

  /** Inserts src[srcOff, srcOff+len) at `start`, copying the bytes it keeps. */
  insert(start: number, src: Uint8Array, srcOff: number, len: number, newWins: NewDataWins): InsertResult {
    const end = start + len;
    if (len <= 0) return NO_OVERLAP;
    const list = this.pieces;
    // First piece that ends after `start`.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.end <= start) lo = mid + 1;
      else hi = mid;
    }
    let last = lo;
    while (last < list.length && list[last]!.start < end) last++;
    if (last === lo) {
      list.splice(lo, 0, { start, end, data: copy(src, srcOff, srcOff + len), segStart: start, segEnd: end });
      this.bytes += len;
      return NO_OVERLAP;
    }
    let different = false;
    const kept: Piece[] = [];
    // Ranges of the new segment that old data keeps.
    const blocked: Array<[number, number]> = [];
    for (let i = lo; i < last; i++) {
      const old = list[i]!;
      const os = Math.max(start, old.start);
      const oe = Math.min(end, old.end);
      if (!different) {
        for (let k = os; k < oe; k++) {
          if (src[srcOff + (k - start)] !== old.data[k - old.start]) {
            different = true;
            break;
          }
        }
      }
      this.bytes -= old.end - old.start;
      if (newWins(start, end, old.segStart, old.segEnd)) {
        if (old.start < start) kept.push(cut(old, old.start, start));
        if (old.end > end) kept.push(cut(old, end, old.end));
      } else {
        kept.push(old);
        blocked.push([os, oe]);
      }
    }
    let at = start;
    for (const [bs, be] of blocked) {
      if (bs > at) kept.push({ start: at, end: bs, data: copy(src, srcOff + (at - start), srcOff + (bs - start)), segStart: start, segEnd: end });
      at = be;
    }
    if (at < end) kept.push({ start: at, end, data: copy(src, srcOff + (at - start), srcOff + len), segStart: start, segEnd: end });
    kept.sort((a, b) => a.start - b.start);
    for (const p of kept) this.bytes += p.end - p.start;
    list.splice(lo, last - lo, ...kept);
    return { overlapped: true, different };
  }

  /** Removes and returns the first piece. */
  shift(): Piece | undefined {
    const p = this.pieces.shift();
    if (p !== undefined) this.bytes -= p.end - p.start;
    return p;
  }

  clear(): void {
    this.pieces.length = 0;
    this.bytes = 0;
  }

  /** True when the pieces cover [from, to) with no hole. */
  covers(from: number, to: number): boolean {
    let at = from;
    for (const p of this.pieces) {
      if (at >= to) return true;
      if (p.end <= at) continue;
      if (p.start > at) return false;
      at = p.end;
    }
    return at >= to;
  }
}

function cut(p: Piece, from: number, to: number): Piece {
  return { start: from, end: to, data: copy(p.data, from - p.start, to - p.start), segStart: p.segStart, segEnd: p.segEnd };
}

/**
 * A copy of src[from, to). Not `src.slice`: on a Node Buffer (what capture readers hand out,
 * reused for the next frame) slice is a view, and held bytes would change under us.
 */
function copy(src: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(src.subarray(from, to));
}
