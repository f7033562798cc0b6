import type { Keyword } from '../keyword.js';
import { RuleError, splitArgs, unquote } from '../syntax.js';

/** Rule identity and description: msg, sid, gid, rev, classtype, priority, metadata, reference, target, noalert. */

function int(name: string, value: string | null, min: number): number {
  if (value === null || !/^\s*\d+\s*$/.test(value)) throw new RuleError(`${name} needs a whole number`);
  const n = Number(value);
  if (n < min) throw new RuleError(`${name} must be at least ${min}`);
  return n;
}

export const msg: Keyword = {
  name: 'msg',
  summary: 'The alert message.',
  syntax: 'msg:"text"',
  apply(b, value) {
    if (value === null) throw new RuleError('msg needs a text');
    b.msg = unquote(value).replace(/\\(.)/g, '$1');
  },
};

export const sid: Keyword = {
  name: 'sid',
  summary: 'The signature id: with gid, the rule\'s identity.',
  syntax: 'sid:N',
  apply(b, value) {
    b.sid = int('sid', value, 1);
  },
};

export const gid: Keyword = {
  name: 'gid',
  summary: 'The generator id (1 for text rules).',
  syntax: 'gid:N',
  apply(b, value) {
    b.gid = int('gid', value, 0);
  },
};

export const rev: Keyword = {
  name: 'rev',
  summary: 'The rule\'s revision.',
  syntax: 'rev:N',
  apply(b, value) {
    b.rev = int('rev', value, 0);
  },
};

export const classtype: Keyword = {
  name: 'classtype',
  summary: 'The class of attack, from classification.config: sets the category and the default priority.',
  syntax: 'classtype:name',
  apply(b, value) {
    if (value === null || value.trim() === '') throw new RuleError('classtype needs a name');
    const name = value.trim();
    if (b.classifications.size > 0 && !b.classifications.has(name)) throw new RuleError(`classtype "${name}" is not in classification.config`);
    b.classtype = name;
  },
};

export const priority: Keyword = {
  name: 'priority',
  summary: 'The alert\'s priority (1 highest); overrides the classtype\'s.',
  syntax: 'priority:N (1-255)',
  apply(b, value) {
    const n = int('priority', value, 1);
    if (n > 255) throw new RuleError('priority must be 255 or less');
    b.priority = n;
  },
};

export const metadata: Keyword = {
  name: 'metadata',
  summary: 'Key-value pairs carried into alerts (alert.metadata), e.g. metadata:created_at 2004_04_21, cve CVE_2003_0719.',
  syntax: 'metadata:key value[, key value]...',
  apply(b, value) {
    if (value === null) return;
    for (const item of splitArgs(value)) {
      const t = item.trim();
      if (t === '') continue;
      const sp = t.indexOf(' ');
      const key = sp < 0 ? t : t.slice(0, sp);
      const val = sp < 0 ? '' : t.slice(sp + 1).trim();
      (b.metadata[key] ??= []).push(val);
    }
  },
};

export const reference: Keyword = {
  name: 'reference',
  summary: 'An external reference (cve, bugtraq, url, ...): type,id.',
  syntax: 'reference:type,id',
  apply(b, value) {
    if (value === null) throw new RuleError('reference needs type,id');
    const comma = value.indexOf(',');
    if (comma < 0) throw new RuleError(`reference "${value}" is not type,id`);
    b.references.push({ type: value.slice(0, comma).trim().toLowerCase(), value: value.slice(comma + 1).trim() });
  },
};

export const target: Keyword = {
  name: 'target',
  summary: 'Which side of the alert is the target (alert.source and alert.target in EVE).',
  syntax: 'target:src_ip | dest_ip',
  apply(b, value) {
    const v = value?.trim();
    if (v !== 'src_ip' && v !== 'dest_ip') throw new RuleError('target must be src_ip or dest_ip');
    b.target = v;
  },
};

export const noalert: Keyword = {
  name: 'noalert',
  summary: 'The rule never alerts; it still sets flowbits when it matches.',
  syntax: 'noalert',
  apply(b) {
    b.noalert = true;
  },
};

/** Snort 3 keywords that only describe: accepted and ignored. */
export const rem: Keyword = {
  name: 'rem',
  summary: 'Snort 3: a comment inside the rule.',
  syntax: 'rem:"text"',
  apply() {},
};
