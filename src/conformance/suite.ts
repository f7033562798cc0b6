import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isMap, type YamlMap } from './suricata-config.js';

/**
 * suricata-verify's test layout, as run.py walks it: every directory holding a test.yaml is a
 * test, and the walk does not go below it; the test's name is its path under the tests
 * directory. A test's pcap, rule files and suricata.yaml sit in its directory.
 */

/** One test directory. */
export interface TestCase {
  /** Path relative to the tests directory, with "/" separators ("alert-max/alert-max-20"). */
  name: string;
  dir: string;
  /** The directory's own name: run.py's name for it ("ips" in it means IPS mode). */
  basename: string;
}

/** Finds every test under `root`, sorted by name (run.py's order). */
export function discoverTests(root: string): TestCase[] {
  const out: TestCase[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    if (dir !== root && entries.includes('test.yaml')) {
      const name = relative(root, dir).split(sep).join('/');
      out.push({ name, dir, basename: name.slice(name.lastIndexOf('/') + 1) });
      return;
    }
    for (const e of entries.sort()) {
      const p = join(dir, e);
      let isDir = false;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(p);
    }
  };
  walk(root);
  return out.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/** test.yaml could not be read or is not a mapping. */
export class TestYamlError extends Error {}

/** Reads a test.yaml as run.py does (PyYAML, YAML 1.1: yes/no are booleans). An empty file is {}. */
export function loadTestYaml(dir: string): YamlMap {
  const path = join(dir, 'test.yaml');
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'), { version: '1.1', uniqueKeys: false });
  } catch (err) {
    throw new TestYamlError(`test.yaml: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (!isMap(data)) throw new TestYamlError('test.yaml: the top level is not a mapping');
  return data;
}

/** The capture: the `pcap` key (relative to the test directory), else the directory's one .pcap/.pcapng. */
export function findPcap(dir: string, config: YamlMap): { path: string | null; error?: string } {
  if ('pcap' in config) {
    const v = config.pcap;
    if (v === false || v === null || v === undefined || v === '') return { path: null };
    const path = join(dir, String(v));
    if (!existsSync(path)) return { path: null, error: `PCAP filename does not exist: ${String(v)}` };
    return { path };
  }
  const pcaps = readdirSync(dir).filter((f) => !f.startsWith('.') && (f.endsWith('.pcap') || f.endsWith('.pcapng'))).sort();
  if (pcaps.length > 1) return { path: null, error: 'More than 1 pcap file found' };
  return { path: pcaps.length === 1 ? join(dir, pcaps[0]!) : null };
}

/** The directory's *.rules files, sorted (run.py passes one with -S; firewall.rules + td.rules is firewall mode). */
export function findRuleFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => !f.startsWith('.') && f.endsWith('.rules')).sort().map((f) => join(dir, f));
}
