/**
 * Rule variables in Suricata's `vars` layout: address groups and port groups. The defaults are
 * suricata.yaml's, plus the variables the shipped rule sets use (ET Open, the Snort community
 * set and the 2004 Snort set), so every shared rule set loads without a config file.
 */
export interface RuleVars {
  addressGroups: Record<string, string>;
  portGroups: Record<string, string>;
}

export const DEFAULT_VARS: RuleVars = {
  addressGroups: {
    HOME_NET: '[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]',
    EXTERNAL_NET: '!$HOME_NET',
    HTTP_SERVERS: '$HOME_NET',
    SMTP_SERVERS: '$HOME_NET',
    SQL_SERVERS: '$HOME_NET',
    DNS_SERVERS: '$HOME_NET',
    TELNET_SERVERS: '$HOME_NET',
    SNMP_SERVERS: '$HOME_NET',
    SIP_SERVERS: '$HOME_NET',
    AIM_SERVERS: '$EXTERNAL_NET',
    DC_SERVERS: '$HOME_NET',
    DNP3_SERVER: '$HOME_NET',
    DNP3_CLIENT: '$HOME_NET',
    MODBUS_CLIENT: '$HOME_NET',
    MODBUS_SERVER: '$HOME_NET',
    ENIP_CLIENT: '$HOME_NET',
    ENIP_SERVER: '$HOME_NET',
  },
  portGroups: {
    HTTP_PORTS: '80',
    SHELLCODE_PORTS: '!80',
    ORACLE_PORTS: '1521',
    SSH_PORTS: '22',
    DNP3_PORTS: '20000',
    MODBUS_PORTS: '502',
    FILE_DATA_PORTS: '[$HTTP_PORTS,110,143]',
    FTP_PORTS: '21',
    SIP_PORTS: '[5060,5061]',
    GENEVE_PORTS: '6081',
    VXLAN_PORTS: '4789',
    TEREDO_PORTS: '3544',
  },
};

/** Overrides HOME_NET (as `outpost analyze --home-net` does); EXTERNAL_NET follows as its negation unless it was set. */
export function withHomeNet(vars: RuleVars, homeNet: string, externalSet: boolean): RuleVars {
  const addressGroups: Record<string, string> = { ...vars.addressGroups, HOME_NET: homeNet.startsWith('[') ? homeNet : `[${homeNet}]` };
  if (!externalSet) addressGroups.EXTERNAL_NET = '!$HOME_NET';
  return { addressGroups, portGroups: { ...vars.portGroups } };
}
