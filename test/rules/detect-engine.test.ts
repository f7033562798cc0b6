import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TcpConnection, UdpFlow, ping } from '../../src/synth/traffic.js';
import { detect } from './harness.js';

const web = (cap: Parameters<Parameters<typeof detect>[1]>[0], request: string, response = 'HTTP/1.0 200 OK\r\n\r\nhello'): void => {
  const c = new TcpConnection(cap, '203.0.113.7:40000', '192.168.1.5:80').handshake();
  c.send('client', request);
  c.send('server', response);
  c.close();
};

describe('content matching', () => {
  test('a later relative content makes an earlier one retry at its next occurrence (Suricata PayloadTestSig08)', () => {
    const r = detect('alert tcp any any -> any any (msg:"retry"; content:"fix"; content:"this"; within:6; content:!"and"; distance:0; sid:1;)', (cap) =>
      web(cap, 'we need to fix this and yes fix this now'),
    );
    assert.ok(r.sids.includes(1));
  });

  test('offset and depth bound the window from the start of the payload', () => {
    const r = detect(
      'alert tcp any any -> any any (msg:"at 4"; content:"ABC"; offset:4; depth:3; sid:1;)\nalert tcp any any -> any any (msg:"not at 3"; content:"ABC"; offset:3; depth:3; sid:2;)',
      (cap) => web(cap, 'xxxxABCyyyy'),
    );
    assert.ok(r.sids.includes(1));
    assert.ok(!r.sids.includes(2));
  });

  test('nocase folds ASCII case only; without it case must match', () => {
    const r = detect('alert tcp any any -> any any (msg:"nc"; content:"get /ADMIN"; nocase; sid:1;)\nalert tcp any any -> any any (msg:"cs"; content:"get /ADMIN"; sid:2;)', (cap) => web(cap, 'GET /admin HTTP/1.0\r\n\r\n'));
    assert.ok(r.sids.includes(1));
    assert.ok(!r.sids.includes(2));
  });

  test('startswith and endswith pin the content to the ends of the buffer', () => {
    const r = detect(
      [
        'alert udp any any -> any any (msg:"sw"; content:"HEAD"; startswith; sid:1;)',
        'alert udp any any -> any any (msg:"ew"; content:"TAIL"; endswith; sid:2;)',
        'alert udp any any -> any any (msg:"sw-no"; content:"TAIL"; startswith; sid:3;)',
      ].join('\n'),
      (cap) => new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:6000').send('client', 'HEAD middle TAIL'),
    );
    assert.deepEqual(r.sids.sort(), [1, 2]);
  });

  test('a negated content matches when the pattern is absent from its window', () => {
    const r = detect('alert udp any any -> any any (msg:"no evil"; content:"GET"; content:!"evil"; within:10; sid:1;)', (cap) => {
      const f = new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:6000');
      f.send('client', 'GET good one');
      f.send('client', 'GET evil one');
    });
    assert.equal(r.alerts.length, 1);
    assert.equal(r.alerts[0]!.pcap_cnt, 1);
  });
});

describe('packets and streams', () => {
  test('a plain TCP content rule finds a pattern split across segments in the reassembled stream, once', () => {
    const r = detect('alert tcp any any -> any any (msg:"split"; content:"EVILSTRING"; sid:1;)', (cap) => {
      const c = new TcpConnection(cap, '203.0.113.7:40000', '192.168.1.5:80').handshake();
      c.send('client', 'xxEVIL');
      c.send('client', 'STRINGyy');
      c.close();
    });
    assert.deepEqual(r.sids, [1]);
  });

  test('a tcp-pkt rule looks at packets only: the split pattern is not found', () => {
    const r = detect('alert tcp-pkt any any -> any any (msg:"split"; content:"EVILSTRING"; sid:1;)', (cap) => {
      const c = new TcpConnection(cap, '203.0.113.7:40000', '192.168.1.5:80').handshake();
      c.send('client', 'xxEVIL');
      c.send('client', 'STRINGyy');
      c.close();
    });
    assert.deepEqual(r.sids, []);
  });

  test('a stream left open at the end of the capture is inspected when its flow ends ("stream (flow timeout)")', () => {
    const r = detect('alert tcp any any -> any any (msg:"late"; content:"LATE"; sid:1;)', (cap) => {
      const c = new TcpConnection(cap, '203.0.113.7:40000', '192.168.1.5:80').handshake();
      c.send('client', 'a LATE arrival');
    });
    assert.equal(r.alerts.length, 1);
    assert.equal(r.alerts[0]!.pkt_src, 'stream (flow timeout)');
    assert.equal(r.alerts[0]!.pcap_cnt, undefined);
    assert.equal(r.alerts[0]!.src_ip, '203.0.113.7');
  });

  test('a packet-and-stream rule that alerted on a packet does not alert again on the stream chunk with the same bytes', () => {
    const r = detect('alert tcp any any -> any any (msg:"at start"; content:"HELLO"; depth:5; sid:1;)', (cap) => {
      const c = new TcpConnection(cap, '203.0.113.7:40000', '192.168.1.5:80').handshake();
      c.send('client', 'HELLO world');
      c.close();
    });
    assert.equal(r.alerts.length, 1);
    assert.equal(r.alerts[0]!.pkt_src, 'wire/pcap');
    assert.equal(r.alerts[0]!.pcap_cnt, 4, 'on the data packet itself');
  });

  test('dsize makes a rule packet-level: payload size of one packet', () => {
    const r = detect('alert tcp any any -> any any (msg:"small"; dsize:<5; content:"ab"; sid:1;)', (cap) => {
      const c = new TcpConnection(cap, '203.0.113.7:40000', '192.168.1.5:80').handshake();
      c.send('client', 'ab');
      c.send('client', 'abcdefgh');
    });
    assert.equal(r.alerts.length, 1);
    assert.equal(r.alerts[0]!.pkt_src, 'wire/pcap');
  });
});

describe('flow keyword', () => {
  test('to_server and to_client select the direction; established is false on the handshake', () => {
    const r = detect(
      [
        'alert tcp any any -> any any (msg:"ts est"; flow:to_server,established; sid:1;)',
        'alert tcp any any -> any any (msg:"tc"; flow:to_client; sid:2;)',
        'alert tcp any any -> any any (msg:"not est"; flow:not_established; sid:3;)',
      ].join('\n'),
      (cap) => web(cap, 'GET / HTTP/1.0\r\n\r\n'),
    );
    const bySid = (sid: number): number[] => r.alerts.filter((a) => a.alert.signature_id === sid).map((a) => a.pcap_cnt!);
    // Frames: 1 SYN, 2 SYN-ACK, 3 ACK, 4 GET, 5 ACK, 6 response, 7 ACK, 8 FIN, 9 FIN-ACK, 10 ACK.
    assert.deepEqual(bySid(3), [1, 2, 3], 'the three handshake packets come before establishment');
    assert.deepEqual(bySid(1), [4, 7, 8, 10]);
    assert.deepEqual(bySid(2), [2, 5, 6, 9]);
  });

  test('for UDP the first reply is already established', () => {
    const r = detect('alert udp any any -> any any (msg:"est"; flow:established; sid:1;)', (cap) => {
      new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:53').send('client', 'q').send('server', 'a').send('client', 'q2');
    });
    assert.deepEqual(r.alerts.map((a) => a.pcap_cnt), [2, 3]);
  });
});

describe('flowbits and order', () => {
  test('a rule that sets a flowbit runs before one that tests it, whatever their sids', () => {
    const r = detect(
      ['alert udp any any -> any any (msg:"reader"; flowbits:isset,seen; sid:1;)', 'alert udp any any -> any any (msg:"setter"; content:"x"; flowbits:set,seen; flowbits:noalert; sid:2;)'].join('\n'),
      (cap) => new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:6000').send('client', 'x'),
    );
    assert.deepEqual(r.sids, [1], 'the reader alerts on the same packet; the setter is silent');
  });

  test('isset with | is any of, with & all of; isnotset is the opposite', () => {
    const r = detect(
      [
        'alert udp any any -> any any (msg:"set a"; content:"a"; flowbits:set,a; flowbits:noalert; sid:10;)',
        'alert udp any any -> any any (msg:"a or b"; content:"z"; flowbits:isset,a|b; sid:1;)',
        'alert udp any any -> any any (msg:"a and b"; content:"z"; flowbits:isset,a&b; sid:2;)',
        'alert udp any any -> any any (msg:"not b"; content:"z"; flowbits:isnotset,b; sid:3;)',
      ].join('\n'),
      (cap) => new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:6000').send('client', 'a').send('client', 'z'),
    );
    assert.deepEqual(r.sids.sort(), [1, 3]);
  });

  test('no more than packet-alert-max alerts per packet; noalert rules take no slot', () => {
    const rules = Array.from({ length: 20 }, (_, i) => `alert udp any any -> any any (msg:"r${i}"; content:"x"; sid:${i + 1};)`);
    rules.push('alert udp any any -> any any (msg:"silent"; content:"x"; flowbits:noalert; flowbits:set,q; sid:100;)');
    const r = detect(rules.join('\n'), (cap) => new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:6000').send('client', 'x'));
    assert.equal(r.alerts.length, 15);
    assert.deepEqual(r.sids, Array.from({ length: 15 }, (_, i) => i + 1), 'the first fifteen in rule order');
  });

  test('a matching pass rule silences the alerts after it in the packet', () => {
    const r = detect(['alert udp any any -> any any (msg:"a"; content:"x"; sid:1;)', 'pass udp any any -> any any (msg:"ok"; content:"x"; sid:2;)'].join('\n'), (cap) =>
      new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:6000').send('client', 'x'),
    );
    assert.deepEqual(r.sids, []);
  });

  test("the flow's bits go on its records as metadata.flowbits, traffic/id/ and traffic/label/ bits as traffic", () => {
    const r = detect(
      [
        'alert udp any any -> any any (msg:"id"; content:"x"; flowbits:set,traffic/id/mozilla; flowbits:set,traffic/label/browser; flowbits:set,seen; sid:1;)',
        'alert udp any any -> any any (msg:"before"; content:"w"; sid:2;)',
      ].join('\n'),
      (cap) => new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:6000').send('client', 'w').send('client', 'x'),
    );
    const before = r.alerts.find((a) => a.alert.signature_id === 2)!;
    assert.equal(before.metadata, undefined, 'no bits were set when the first packet alerted');
    assert.equal(before.traffic, undefined);
    const after = r.alerts.find((a) => a.alert.signature_id === 1)!;
    assert.deepEqual(after.metadata, { flowbits: ['seen'] });
    assert.deepEqual(after.traffic, { id: ['mozilla'], label: ['browser'] });
    const flow = r.events.find((e) => e.event_type === 'flow')!;
    assert.deepEqual([flow.metadata, flow.traffic], [after.metadata, after.traffic]);
  });
});

describe('headers', () => {
  test('an IP-only rule matches the first packet of each direction of a flow', () => {
    const r = detect('alert ip any any -> any any (msg:"ip"; sid:1;)', (cap) => web(cap, 'GET / HTTP/1.0\r\n\r\n'));
    assert.deepEqual(r.alerts.map((a) => a.pcap_cnt), [1, 2]);
  });

  test('HOME_NET and EXTERNAL_NET follow --home-net; a <> rule matches both ways', () => {
    const rules = [
      'alert tcp $EXTERNAL_NET any -> $HOME_NET 80 (msg:"in"; flow:to_server,established; content:"GET"; sid:1;)',
      'alert tcp $HOME_NET any -> $EXTERNAL_NET any (msg:"out"; content:"GET"; sid:2;)',
      'alert tcp 192.168.1.5 80 <> 203.0.113.7 any (msg:"bi"; content:"HTTP/1.0"; sid:3;)',
    ].join('\n');
    const r = detect(rules, (cap) => web(cap, 'GET / HTTP/1.0\r\n\r\n'), { homeNet: '192.168.1.0/24' });
    assert.ok(r.sids.includes(1));
    assert.ok(!r.sids.includes(2));
    assert.ok(r.sids.includes(3));
  });

  test('itype, icode and icmp_id match ICMP fields', () => {
    const r = detect(
      ['alert icmp any any -> any any (msg:"echo"; itype:8; icode:0; icmp_id:512; sid:1;)', 'alert icmp any any -> any any (msg:"reply"; itype:0; sid:2;)', 'alert icmp any any -> any any (msg:"other id"; icmp_id:7; sid:3;)'].join('\n'),
      (cap) => ping(cap, '10.0.0.1', '10.0.0.2', 512, 1),
    );
    assert.deepEqual(r.sids.sort(), [1, 2]);
  });

  test('flags: exact, at least (+), any of (*) and none of (!)', () => {
    const r = detect(
      [
        'alert tcp any any -> any any (msg:"syn only"; flags:S; sid:1;)',
        'alert tcp any any -> any any (msg:"syn and more"; flags:+S; sid:2;)',
        'alert tcp any any -> any any (msg:"fin or rst"; flags:*FR; sid:3;)',
        'alert tcp any any -> any any (msg:"no ack"; flags:!A; sid:4;)',
      ].join('\n'),
      (cap) => web(cap, 'GET / HTTP/1.0\r\n\r\n'),
    );
    const count = (sid: number): number => r.sids.filter((s) => s === sid).length;
    assert.equal(count(1), 1, 'only the SYN has exactly SYN');
    assert.equal(count(2), 2, 'SYN and SYN-ACK carry SYN');
    assert.equal(count(3), 2, 'two FINs');
    assert.equal(count(4), 1, 'only the first SYN lacks ACK');
  });
});

describe('alert records', () => {
  test('an alert carries Suricata\'s fields, and fast.log has Suricata\'s line', () => {
    const r = detect('alert tcp any any -> any 80 (msg:"GET seen"; content:"GET"; depth:3; classtype:attempted-recon; metadata:created_at 2004_04_21, cve CVE_2003_0719; reference:cve,2003-0719; sid:9; rev:2;)', (cap) =>
      web(cap, 'GET / HTTP/1.0\r\n\r\n'),
    );
    const a = r.alerts[0]!;
    assert.equal(a.event_type, 'alert');
    assert.equal(a.src_ip, '203.0.113.7');
    assert.equal(a.dest_port, 80);
    assert.equal(a.proto, 'TCP');
    assert.equal(a.direction, 'to_server');
    assert.deepEqual(a.alert, {
      action: 'allowed', gid: 1, signature_id: 9, rev: 2, signature: 'GET seen', category: 'Attempted Information Leak', severity: 2,
      metadata: { created_at: ['2004_04_21'], cve: ['CVE_2003_0719'] },
    });
    assert.equal(a.flow?.src_ip, '203.0.113.7');
    assert.match(r.fast[0]!, /^04\/21\/2004-10:00:00\.\d{6} {2}\[\*\*\] \[1:9:2\] GET seen \[\*\*\] \[Classification: Attempted Information Leak\] \[Priority: 2\] \{TCP\} 203\.0\.113\.7:40000 -> 192\.168\.1\.5:80$/);
    const flow = r.events.find((e) => e.event_type === 'flow');
    assert.equal(flow?.event_type === 'flow' && flow.flow.alerted, true, 'the flow record says it alerted');
  });
});
