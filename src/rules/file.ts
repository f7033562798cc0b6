import { looksLikeRule } from './syntax.js';

/** One rule as it stands in a file. */
export interface RuleLine {
  /** The rule's text, continuation lines joined. */
  text: string;
  /** 1-based line where the rule starts. */
  line: number;
  /** Commented out: a disabled rule (counted, not loaded). */
  disabled: boolean;
}

/**
 * Splits a rules file into rules. A line ending in '\' continues on the next one; '#' starts a
 * comment, and a comment that is itself a rule is a disabled rule. Blank lines are skipped.
 */
export function splitRuleFile(content: string): RuleLine[] {
  const lines = content.split(/\r?\n/);
  const out: RuleLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let text = lines[i]!;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      text = text.slice(0, -1) + lines[++i]!;
    }
    const trimmed = text.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const inner = trimmed.replace(/^#+\s*/, '');
      if (looksLikeRule(inner)) out.push({ text: inner, line: startLine, disabled: true });
      continue;
    }
    out.push({ text: trimmed, line: startLine, disabled: false });
  }
  return out;
}
