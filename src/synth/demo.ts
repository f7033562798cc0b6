import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fragmentIpv4, ipv4, tcp, udp } from './headers.js';
import { pctExploitFixture } from './pct.js';
import { writeScenario } from './scenarios/index.js';
import { ping, SynthCapture, TcpConnection, UdpFlow } from './traffic.js';

/**
 * The demo capture `npm start` reads: a few minutes of a small office network in April 2004,
 * with something for every part of the reader to show: web and DNS traffic, an IPv6 connection,
 * a fragmented datagram, segments out of order, a gap, a malformed packet, and the story's
 * attack: an outside host sending the MS04-011 PCT exploit's record shape (the harmless fixture)
 * to a web server's port 443.
 */
export function writeDemoCapture(path: string): void {
  const cap = new SynthCapture(path);

  new UdpFlow(cap, '192.168.1.20:53124', '192.168.1.1:53')
    .send('client', dnsQuery(0x1a2b, 'www.example.com'))
    .send('server', dnsQuery(0x1a2b, 'www.example.com', true));

  const web = new TcpConnection(cap, '192.168.1.20:1042', '93.184.216.34:80').handshake();
  web.send('client', 'GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0)\r\n\r\n');
  web.send('server', `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 3000\r\n\r\n${'<p>hello</p>'.repeat(250)}`);
  web.close();

  cap.wait(2);
  ping(cap, '192.168.1.20', '192.168.1.1', 0x0200, 1);

  // Out of order: the second segment arrives before the first.
  const mail = new TcpConnection(cap, '192.168.1.21:1050', '192.168.1.5:25').handshake();
  mail.send('server', '220 mail.example.com ESMTP\r\n');
  mail.segment('client', 12, 'RCPT TO:<ops@example.com>\r\n');
  mail.segment('client', 0, 'HELO alpha\r\n');
  mail.advance('client', 12 + 27);
  mail.close();

  // A datagram too big for one frame arrives in three fragments.
  const big = ipv4({ src: '192.168.1.30', dst: '192.168.1.1', proto: 17, id: 0x4242 }, udp(5000, 5001, Buffer.alloc(3000, 0x61), '192.168.1.30', '192.168.1.1'));
  for (const f of fragmentIpv4(big, [[0, 1480], [1480, 1480], [2960, 48]])) cap.send(f);

  // An IPv6 connection.
  new TcpConnection(cap, '[2001:db8::20]:40000', '[2001:db8::80]:443').handshake().send('client', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0])).close();

  // The capture missed a segment: the server's ACK shows the host received it.
  cap.wait(1);
  const lossy = new TcpConnection(cap, '192.168.1.22:1060', '192.168.1.5:110').handshake();
  lossy.segment('client', 0, 'USER alice\r\n').advance('client', 12);
  lossy.segment('client', 24, 'LIST\r\n').advance('client', 12 + 6);
  lossy.packet('server', { seq: lossy.seq('server', 0), ack: lossy.seq('client', 30), flags: 'A' }, new Uint8Array(0));
  lossy.close();

  // The PCT exploit's first record (the documented header bytes, zero filler) to the web server's SSL port.
  cap.wait(5);
  const attack = new TcpConnection(cap, '203.0.113.66:1042', '192.168.1.10:443').handshake();
  attack.send('client', pctExploitFixture());
  attack.close();

  // A malformed packet: the IPv4 header claims more bytes than the frame holds.
  cap.send(ipv4({ src: '10.66.6.6', dst: '192.168.1.20', proto: 6, totalLength: 1500 }, tcp({ sport: 6666, dport: 80, seq: 1, flags: 'S' }, new Uint8Array(0), '10.66.6.6', '192.168.1.20')));
  cap.close();
}

/** A minimal DNS query (or answer with one A record) for a name. */
export function dnsQuery(id: number, name: string, answer = false): Buffer {
  const labels = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(answer ? 0x8180 : 0x0100, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answer ? 1 : 0, 6);
  const q = Buffer.concat([labels, Buffer.from([0, 1, 0, 1])]);
  if (!answer) return Buffer.concat([head, q]);
  const a = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34]);
  return Buffer.concat([head, q, a]);
}

/**
 * Run as a script (by `npm install`): writes demo/demo.pcap (this file's capture, for `outpost
 * analyze`) and demo/seed.pcap (the seed-bot scenario: what `outpost up` replays through its
 * sensor) at the package root.
 */
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const path = resolve(root, process.argv[2] ?? 'demo/demo.pcap');
  mkdirSync(dirname(path), { recursive: true });
  writeDemoCapture(path);
  writeScenario('seed-bot', resolve(dirname(path), 'seed.pcap'));
}
