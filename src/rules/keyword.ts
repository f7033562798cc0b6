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
    // Application-layer buffers and keywords: the protocol analyzers (HTTP, DNS, TLS, ...) come next.
    ...[
      'http.uri', 'http.uri.raw', 'http.method', 'http.host', 'http.host.raw', 'http.header', 'http.header.raw', 'http.header_names',
      'http.user_agent', 'http.cookie', 'http.referer', 'http.accept', 'http.accept_enc', 'http.accept_lang', 'http.content_type',
      'http.content_len', 'http.location', 'http.request_line', 'http.response_line', 'http.start', 'http.protocol', 'http.stat_code',
      'http.stat_msg', 'http.request_body', 'http.response_body', 'http.server', 'http.connection', 'http.request_header', 'http.response_header',
      'file.data', 'file_data', 'urilen', 'http_uri', 'http_raw_uri', 'http_header', 'http_raw_header', 'http_cookie', 'http_raw_cookie',
      'http_method', 'http_client_body', 'http_server_body', 'http_stat_code', 'http_stat_msg', 'http_user_agent', 'http_host', 'http_raw_host',
      'http_header_names', 'http_request_line', 'http_response_line', 'http_start', 'http_protocol', 'http_accept', 'http_accept_enc',
      'http_accept_lang', 'http_referer', 'http_content_type', 'http_content_len', 'http_location', 'http_connection', 'http_server', 'uricontent',
      'http_param', 'http_raw_body', 'http_true_ip', 'http_version', 'http_trailer', 'http_raw_trailer',
      'dns.query', 'dns_query', 'dns.opcode', 'dns.rrtype', 'dns.answer.name', 'dns.queries.rrname',
      'tls.sni', 'tls_sni', 'tls.cert_subject', 'tls_cert_subject', 'tls.cert_issuer', 'tls_cert_issuer', 'tls.cert_serial', 'tls_cert_serial',
      'tls.cert_fingerprint', 'tls_cert_fingerprint', 'tls.certs', 'tls.version', 'tls_version', 'tls.subject', 'tls.issuerdn', 'tls.fingerprint',
      'tls.store', 'tls_cert_notbefore', 'tls_cert_notafter', 'tls_cert_expired', 'tls_cert_valid', 'tls.cert_chain_len', 'ssl_state', 'ssl_version',
      'ja3.hash', 'ja3_hash', 'ja3.string', 'ja3_string', 'ja3s.hash', 'ja3s_hash', 'ja3s.string', 'ja4.hash',
      'app-layer-protocol', 'app-layer-event', 'service', 'filename', 'fileext', 'filemagic', 'filemd5', 'filesha1', 'filesha256', 'filesize', 'filestore',
      'file.name', 'file.magic', 'ftpbounce', 'ftp.command', 'ftpdata_command', 'smtp.helo', 'smtp.mail_from', 'smtp.rcpt_to',
      'ssh.proto', 'ssh_proto', 'ssh.software', 'ssh_software', 'ssh.protoversion', 'ssh.softwareversion', 'ssh.hassh', 'ssh.hassh.server',
      'smb.named_pipe', 'smb.share', 'dcerpc.iface', 'dcerpc.opnum', 'dcerpc.stub_data', 'dce_iface', 'dce_opnum', 'dce_stub_data',
      'krb5_cipher', 'krb5_err_code', 'krb5_msg_type', 'krb5.cname', 'krb5.sname', 'snmp.community', 'snmp.pdu_type', 'sip.method', 'sip.uri',
      'rfb.name', 'mqtt.type', 'modbus', 'dnp3_func', 'dnp3_ind', 'dnp3_obj', 'dnp3_data', 'enip_command', 'cip_service', 'quic.sni', 'quic.version',
      'base64_decode', 'base64_data', 'pkt_data.raw',
    ].map((k) => [k, 'an application-layer keyword: needs the protocol analyzers, not built yet']),
    ...['lua', 'luajit'].map((k) => [k, 'Lua scripts are not supported']),
    ...['dataset', 'datarep', 'iprep', 'xbits', 'hostbits', 'flowint', 'flowvar', 'pktvar', 'stream-event', 'app-layer-event', 'tag', 'replace', 'requires', 'config', 'transforms', 'to_md5', 'to_sha1', 'to_sha256', 'to_lowercase', 'to_uppercase', 'strip_whitespace', 'compress_whitespace', 'dotprefix', 'url_decode', 'xor', 'pcrexform', 'header_lowercase', 'strip_pseudo_headers', 'from_base64', 'luaxform', 'asn1', 'ssl_state', 'geoip', 'frame', 'entropy', 'prefilter', 'bypass', 'id_tag', 'rpc', 'tag', 'session', 'resp', 'react', 'logto', 'activates', 'activated_by', 'count', 'ftpbounce', 'cvs', 'threshold_file', 'rem', 'sd_pattern', 'file_type', 'ber_data', 'ber_skip', 'byte_math_output', 'so', 'vba_data', 'js_data', 'bufferlen', 'gtp_info', 'gtp_type', 'gtp_version', 'sip_header', 'sip_body', 'sip_method', 'sip_stat_code', 'sip_uri', 'cip_attribute', 'cip_class', 'cip_conn_path_class', 'cip_instance', 'cip_req', 'cip_rsp', 'cip_status', 'enip_req', 'enip_rsp', 'mms_data', 'mms_func', 'iec104_apci_type', 'iec104_asdu_func', 's7commplus_content', 's7commplus_func', 's7commplus_opcode', 'dnp3_func', 'dnp3_ind', 'dnp3_obj', 'raw_data', 'script_data', 'base64_decode']
      .map((k) => [k, 'not supported yet']),
  ],
);
