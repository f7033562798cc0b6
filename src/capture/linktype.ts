/** Link-layer header types, as numbered by tcpdump.org's LINKTYPE_ registry. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** Some old captures use the OS's DLT_RAW value (12 or 14) instead of LINKTYPE_RAW. */
export function normalizeLinkType(lt: number): number {
  return lt === 12 || lt === 14 ? LinkType.RAW : lt;
}

export function linkTypeName(lt: number): string {
  switch (lt) {
    case LinkType.NULL: return 'null';
    case LinkType.ETHERNET: return 'ethernet';
    case LinkType.RAW: return 'raw';
    case LinkType.LOOP: return 'loop';
    case LinkType.LINUX_SLL: return 'linux-sll';
    case LinkType.IPV4: return 'ipv4';
    case LinkType.IPV6: return 'ipv6';
    case LinkType.LINUX_SLL2: return 'linux-sll2';
    default: return `linktype-${lt}`;
  }
}
