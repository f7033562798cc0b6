import type { RuleBuilder } from './builder.js';

/**
 * A rule keyword: its help, its parse and validation (`apply`), and (in its own file) the step
 * or check that evaluates it. One keyword, one file, as Snort 3's ips_options are laid out; the
 * help text here is what `outpost rules keywords` prints.
 */
export interface Keyword {
  /** The Suricata name. */
  name: string;
  /** Other spellings: Snort 2/3 names, Suricata's legacy underscored names. */
  aliases?: string[];
  /** What it does, in one line. */
  summary: string;
  /** Its arguments, as a user would write them. */
  syntax: string;
  /** Applies the option to the rule being built; throws RuleError when the value is invalid. */
  apply(b: RuleBuilder, value: string | null): void;
}

/**
 * Keywords Outpost knows of but does not implement yet, with the reason. A rule using one is
 * counted as unsupported by that keyword (never silently dropped); a keyword in neither list is
 * an error (most likely a typo).
 */
export const NOT_YET: Readonly<Record<string, string>> = Object.fromEntries(
  [
    // Application-layer keywords of protocols Outpost does not analyze, or parts of the analyzed ones not built yet.
    ...[
      'http.request_header', 'http.response_header', 'http_raw_cookie', 'http_param', 'http_raw_body', 'http_true_ip', 'http_version',
      'http_trailer', 'http_raw_trailer', 'dns.opcode', 'dns.rrtype', 'tls.store', 'tls_cert_notbefore', 'tls_cert_notafter',
      'tls_cert_expired', 'tls_cert_valid', 'tls.cert_chain_len', 'tls.subject', 'tls.issuerdn', 'tls.fingerprint', 'ssl_state',
      'ssl_version', 'ja4.hash', 'filename', 'fileext', 'filemagic', 'filemd5', 'filesha1', 'filesha256', 'filesize',
      'filestore', 'file.magic', 'ftpbounce', 'ftpdata_command', 'base64_decode', 'base64_data', 'pkt_data.raw',
    ].map((k) => [k, 'an application-layer keyword Outpost does not implement yet']),
    ...[
      'smtp.helo', 'smtp.mail_from', 'smtp.rcpt_to', 'ssh.proto', 'ssh_proto', 'ssh.software', 'ssh_software', 'ssh.protoversion',
      'ssh.softwareversion', 'ssh.hassh', 'ssh.hassh.server', 'smb.named_pipe', 'smb.share', 'dcerpc.iface', 'dcerpc.opnum',
      'dcerpc.stub_data', 'dce_iface', 'dce_opnum', 'dce_stub_data', 'krb5_cipher', 'krb5_err_code', 'krb5_msg_type', 'krb5.cname',
      'krb5.sname', 'snmp.community', 'snmp.pdu_type', 'sip.method', 'sip.uri', 'rfb.name', 'mqtt.type', 'modbus', 'dnp3_func',
      'dnp3_ind', 'dnp3_obj', 'dnp3_data', 'enip_command', 'cip_service', 'quic.sni', 'quic.version',
    ].map((k) => [k, 'a keyword of a protocol Outpost does not analyze (SMTP, SSH, SMB, DCERPC, Kerberos, SNMP, SIP, ...)']),
    ...['lua', 'luajit'].map((k) => [k, 'Lua scripts are not supported']),
    ...['dataset', 'datarep', 'iprep', 'xbits', 'hostbits', 'flowint', 'flowvar', 'pktvar', 'stream-event', 'tag', 'replace', 'requires', 'config', 'transforms', 'pcrexform', 'header_lowercase', 'strip_pseudo_headers', 'from_base64', 'luaxform', 'asn1', 'geoip', 'frame', 'entropy', 'prefilter', 'bypass', 'id_tag', 'rpc', 'tag', 'session', 'resp', 'react', 'logto', 'activates', 'activated_by', 'count', 'cvs', 'threshold_file', 'rem', 'sd_pattern', 'file_type', 'ber_data', 'ber_skip', 'byte_math_output', 'so', 'vba_data', 'js_data', 'gtp_info', 'gtp_type', 'gtp_version', 'sip_header', 'sip_body', 'sip_method', 'sip_stat_code', 'sip_uri', 'cip_attribute', 'cip_class', 'cip_conn_path_class', 'cip_instance', 'cip_req', 'cip_rsp', 'cip_status', 'enip_req', 'enip_rsp', 'mms_data', 'mms_func', 'iec104_apci_type', 'iec104_asdu_func', 's7commplus_content', 's7commplus_func', 's7commplus_opcode', 'dnp3_func', 'dnp3_ind', 'dnp3_obj', 'raw_data', 'script_data']
      .map((k) => [k, 'not supported yet']),
  ],
);
