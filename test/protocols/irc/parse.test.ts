import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ctcpOf, decodeLine, pingOf, prefixParts, rfcParams, topicOf, type IrcEvent } from '../../../src/protocols/irc/index.js';
import { atoi, splitWords } from '../../../src/protocols/irc/parse.js';

const ev = (line: string, orig = true): IrcEvent | null => decodeLine(line, orig).event;
const weird = (line: string, orig = true): string | null => decodeLine(line, orig).weird;

test('a message splits into prefix, command and RFC 2812 parameters with a trailing one', () => {
  const d = decodeLine(':tim!~tim@host.example PRIVMSG #bots :.advscan lsass 200 5 0 -r', false);
  assert.deepEqual(d.message, { prefix: 'tim!~tim@host.example', command: 'PRIVMSG', code: 0, params: ['#bots', '.advscan lsass 200 5 0 -r'], trailing: true });
  assert.deepEqual(prefixParts('tim!~tim@host.example'), { nick: 'tim', user: '~tim', host: 'host.example' });
  assert.deepEqual(prefixParts('irc.example.net'), { nick: 'irc.example.net', user: null, host: null });
  assert.deepEqual(prefixParts('nick@host'), { nick: 'nick', user: null, host: 'host' });
});

test('commands are matched case-blind and runs of spaces are tolerated, as servers do', () => {
  const d = decodeLine('   privmsg     #c    :hi there', true);
  assert.equal(d.message?.command, 'PRIVMSG');
  assert.deepEqual(d.message?.params, ['#c', 'hi there']);
  assert.deepEqual(d.event, { type: 'privmsg_message', source: '', target: '#c', message: 'hi there' });
});

test('RFC 2812: after 14 middle parameters the rest of the line is the last one, colon or not', () => {
  const words = Array.from({ length: 16 }, (_, i) => `p${i}`);
  const r = rfcParams(words.join(' '));
  assert.equal(r.params.length, 15);
  assert.equal(r.params[14], 'p14 p15');
  assert.equal(r.trailing, true);
  assert.deepEqual(rfcParams('a b :'), { params: ['a', 'b', ''], trailing: true });
  assert.deepEqual(rfcParams(''), { params: [], trailing: false });
});

test('numeric replies: a three-digit code and a space; anything else numeric is irc_invalid_reply_number', () => {
  const d = decodeLine(':srv 001 bot :Welcome to the network bot!u@h', false);
  assert.equal(d.message?.code, 1);
  assert.equal(d.message?.command, '001');
  assert.deepEqual(d.event, { type: 'reply', prefix: 'srv', code: 1, params: 'bot :Welcome to the network bot!u@h' });
  assert.equal(weird('12 x'), 'irc_invalid_reply_number');
  assert.equal(weird('1234 x'), 'irc_invalid_reply_number');
  assert.equal(weird(':srv 353'), 'irc_invalid_reply_number'); // no space after the digits
  // Zeek takes "000" as code 0, that is, no reply: it is a command with an empty name.
  assert.deepEqual(ev('000 x'), { type: 'request', prefix: '', command: '', arguments: 'x' });
});

test('332 gives the channel topic a bot joins to (its orders), 331 does not', () => {
  assert.deepEqual(ev(':srv 332 bot #c :.download http://x/y.exe c:\\y.exe 1', false), { type: 'channel_topic', channel: '#c', topic: '.download http://x/y.exe c:\\y.exe 1' });
  assert.equal(weird(':srv 332 bot #c', false), 'irc_invalid_topic_reply');
  assert.equal(ev(':srv 331 bot #c :No topic is set', false)?.type, 'reply');
});

test('353 names: the type, the channel and the nicks with @ removed (and + kept, as Zeek does)', () => {
  assert.deepEqual(ev(':srv 353 bot = #c :@op +voiced plain', false), { type: 'names_info', c_type: '=', channel: '#c', users: ['op', '+voiced', 'plain'] });
  // irc-353.pcap sends "353 " alone: Zeek raises irc_invalid_names_line and no event.
  assert.deepEqual(decodeLine('353 ', true).weird, 'irc_invalid_names_line');
  assert.equal(decodeLine('353 ', true).event, null);
});

test('JOIN: comma lists of channels and keys paired by position', () => {
  assert.deepEqual(ev('JOIN #a,#b k1,k2'), {
    type: 'join_message',
    info_list: [
      { nick: '', channel: '#a', password: 'k1', usermode: '' },
      { nick: '', channel: '#b', password: 'k2', usermode: '' },
    ],
  });
  assert.deepEqual(ev('JOIN #a,#b,#c key'), {
    type: 'join_message',
    info_list: [
      { nick: '', channel: '#a', password: 'key', usermode: '' },
      { nick: '', channel: '#b', password: '', usermode: '' },
      { nick: '', channel: '#c', password: '', usermode: '' },
    ],
  });
  // Zeek drops empty list items before pairing: "#a,,#b k1,,k2" pairs #b with k2.
  assert.deepEqual(
    (ev('JOIN #a,,#b k1,,k2') as Extract<IrcEvent, { type: 'join_message' }>).info_list.map((i) => [i.channel, i.password]),
    [
      ['#a', 'k1'],
      ['#b', 'k2'],
    ],
  );
  // A server's echo carries the joining nick; a leading ':' on the channel is dropped.
  assert.deepEqual(ev(':bot!b@h JOIN :#c', false), { type: 'join_message', info_list: [{ nick: 'bot', channel: '#c', password: '', usermode: '' }] });
  assert.equal(weird('JOIN'), 'irc_invalid_join_line');
  assert.equal(weird('JOIN  ,'), null); // no channel left: an empty list, no weird (nor irc.log row)
});

test('NJOIN modes: @@ creator, @ operator, + voice', () => {
  assert.deepEqual(
    (ev('NJOIN #c :@@a,@b,+c,d') as Extract<IrcEvent, { type: 'join_message' }>).info_list.map((i) => [i.nick, i.usermode]),
    [
      ['a', 'creator'],
      ['b', 'operator'],
      ['c', 'voice'],
      ['d', 'none'],
    ],
  );
  assert.equal(weird('NJOIN #c'), 'irc_invalid_njoin_line');
});

test('USER keeps Zeek real-name quirk: words after the first are glued and followed by a space', () => {
  assert.deepEqual(ev('USER tim tim 10.0.0.22 :Tim Wojtulewicz'), { type: 'user_message', user: 'tim', host: 'tim', server: '10.0.0.22', real_name: 'TimWojtulewicz ' });
  assert.deepEqual(ev('USER brotest * * :brotest'), { type: 'user_message', user: 'brotest', host: '*', server: '*', real_name: 'brotest' });
  assert.deepEqual(ev('USER foo'), { type: 'user_message', user: 'foo', host: '', server: '', real_name: '' });
});

test('NICK, PART, QUIT, MODE, NOTICE, KICK, INVITE as Zeek reads them', () => {
  assert.deepEqual(ev('NICK :[XP|USA|04211]'), { type: 'nick_message', who: '', newnick: '[XP|USA|04211]' });
  assert.deepEqual(ev(':a!b@c NICK d', false), { type: 'nick_message', who: 'a!b@c', newnick: 'd' });
  assert.deepEqual(ev('PART #a,#b :gone'), { type: 'part_message', nick: '', chans: ['#a', '#b'], message: 'gone' });
  // Zeek keeps the ':' of "PART :#c" in the channel (it only splits at a space).
  assert.deepEqual(ev(':n!u@h PART :#c', false), { type: 'part_message', nick: 'n', chans: [':#c'], message: '' });
  assert.deepEqual(ev('QUIT :leaving'), { type: 'quit_message', nick: '', message: 'leaving' });
  assert.deepEqual(ev(':n!u@h QUIT :Client Quit', false), { type: 'quit_message', nick: 'n', message: 'Client Quit' });
  assert.deepEqual(ev('MODE #c +k key'), { type: 'mode_message', prefix: '', params: '#c +k key' });
  assert.equal(weird('MODE'), 'irc_invalid_mode_message_format');
  assert.deepEqual(ev(':srv NOTICE * :*** hi', false), { type: 'notice_message', source: 'srv', target: '*', message: '*** hi' });
  assert.equal(weird('NOTICE x'), 'irc_invalid_notice_message_format');
  assert.deepEqual(ev('KICK #c tim_'), { type: 'kick_message', prefix: '', chans: '#c', users: 'tim_', comment: '' });
  assert.deepEqual(ev('KICK #c tim_ :go away now'), { type: 'kick_message', prefix: '', chans: '#c', users: 'tim_', comment: 'go away now' });
  assert.deepEqual(ev('INVITE tim_ :#c'), { type: 'invite_message', prefix: '', nickname: 'tim_', channel: '#c' });
});

test('TOPIC, PING and PONG are Zeek catch-all requests, decoded by topicOf and pingOf', () => {
  const t = decodeLine('TOPIC #bots :.scan.startall', true);
  assert.deepEqual(t.event, { type: 'request', prefix: '', command: 'TOPIC', arguments: '#bots :.scan.startall' });
  assert.deepEqual(topicOf(t.message!), { channel: '#bots', topic: '.scan.startall' });
  assert.deepEqual(topicOf(decodeLine('TOPIC #bots', true).message!), { channel: '#bots', topic: null });
  const server = decodeLine(':n!u@h TOPIC #bots :.ddos.syn 1.2.3.4', false);
  assert.deepEqual(server.event, { type: 'message', prefix: 'n!u@h', command: 'TOPIC', message: '#bots :.ddos.syn 1.2.3.4' });
  assert.deepEqual(pingOf(decodeLine('PING :irc.example.net', false).message!), { kind: 'PING', token: 'irc.example.net' });
  assert.deepEqual(pingOf(decodeLine('PONG irc.example.net', true).message!), { kind: 'PONG', token: 'irc.example.net' });
  assert.equal(pingOf(t.message!), null);
});

test('DCC SEND inside a CTCP PRIVMSG: the 32-bit decimal address, the port and the size', () => {
  assert.deepEqual(ev('PRIVMSG bob :\x01DCC SEND hello.txt 167772161 5555 12\x01'), {
    type: 'dcc_message',
    prefix: '',
    target: 'bob',
    dcc_type: 'SEND',
    argument: 'hello.txt',
    address: '10.0.0.1',
    dest_port: 5555,
    size: 12,
  });
  // DCC CHAT has no size; Turbo DCC adds a "T".
  assert.deepEqual(ev('PRIVMSG bob :\x01DCC CHAT chat 3232235777 4000\x01'), { type: 'dcc_message', prefix: '', target: 'bob', dcc_type: 'CHAT', argument: 'chat', address: '192.168.1.1', dest_port: 4000, size: 0 });
  assert.equal((ev('PRIVMSG bob :\x01DCC SEND f 1 2 3 T\x01') as Extract<IrcEvent, { type: 'dcc_message' }>).size, 3);
  assert.equal(weird('PRIVMSG bob :\x01DCC SEND f 1\x01'), 'irc_invalid_dcc_message_format');
  assert.equal(weird('PRIVMSG bob :\x01DCC SEND f 1 2 3 4 5\x01'), 'irc_invalid_dcc_message_format');
  // Zeek reads the address digit by digit: other characters count as 0, and it wraps at 32 bits.
  assert.equal((ev('PRIVMSG b :\x01DCC SEND f 1x2 2 3\x01') as Extract<IrcEvent, { type: 'dcc_message' }>).address, '0.0.0.102');
  assert.equal((ev('PRIVMSG b :\x01DCC SEND f 99999999999 2 3\x01') as Extract<IrcEvent, { type: 'dcc_message' }>).address, ipOf(99999999999 % 2 ** 32));
  // A negative size is a C int made a count: 2^64 + n.
  assert.equal((ev('PRIVMSG b :\x01DCC SEND f 1 2 -1\x01') as Extract<IrcEvent, { type: 'dcc_message' }>).size, 2 ** 64 - 1);
});

function ipOf(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

test('other CTCP keeps Zeek shape (leading \\x01 removed, trailing kept) and ctcpOf reads it', () => {
  const d = decodeLine('PRIVMSG #c :\x01ACTION waves\x01', true);
  assert.deepEqual(d.event, { type: 'privmsg_message', source: '', target: '#c', message: 'ACTION waves\x01' });
  assert.deepEqual(ctcpOf(d.message!), { verb: 'ACTION', args: 'waves' });
  assert.deepEqual(ctcpOf(decodeLine('NOTICE bot :\x01VERSION mIRC v6.16\x01', false).message!), { verb: 'VERSION', args: 'mIRC v6.16' });
  assert.equal(ctcpOf(decodeLine('PRIVMSG #c :plain', true).message!), null);
  assert.equal(weird('PRIVMSG #chan'), 'irc_invalid_privmsg_message_format');
});

test('STARTTLS from the client is no event; 670 is the starttls event', () => {
  const d = decodeLine('STARTTLS', true);
  assert.equal(d.event, null);
  assert.equal(d.weird, null);
  assert.equal(d.message?.command, 'STARTTLS');
  assert.deepEqual(ev(':irc.joulunet.org 670  :STARTTLS successful, go ahead with TLS handshake', false), { type: 'starttls' });
});

test('line-level rejections use Zeek weird names', () => {
  assert.equal(weird('x'.repeat(513)), 'irc_line_size_exceeded');
  assert.equal(weird('NICK ' + 'x'.repeat(507)), null); // 512 bytes is allowed
  assert.equal(weird('  a'), 'irc_line_too_short');
  assert.equal(weird(':prefixonly'), 'irc_invalid_line');
  assert.equal(weird(':p ab'), 'irc_invalid_line');
  assert.equal(weird('A'.repeat(21) + ' x'), 'irc_invalid_command');
  assert.equal(weird('A'.repeat(20) + ' x'), null);
});

test('IRCv3 message tags before the prefix are skipped', () => {
  const d = decodeLine('@time=2023-05-08T21:40:47.266Z;msgid=abc :tim!tim@h PRIVMSG #testing :hi', false);
  assert.deepEqual(d.event, { type: 'privmsg_message', source: 'tim!tim@h', target: '#testing', message: 'hi' });
  assert.equal(weird('@time=x'), 'irc_invalid_line');
});

test('strings Zeek makes from C strings end at a NUL; sets keep it', () => {
  assert.deepEqual(ev('PRIVMSG #c :before\0after'), { type: 'privmsg_message', source: '', target: '#c', message: 'before' });
  assert.deepEqual(ev(':s 353 n = #c :a\0b', false), { type: 'names_info', c_type: '=', channel: '#c', users: ['a\0b'] });
});

test('the numeric replies Zeek turns into their own events', () => {
  assert.deepEqual(ev(':s 251 n :There are 148 users and 91306 invisible on 27 servers', false), { type: 'network_info', users: 148, services: 0, servers: 27 });
  assert.deepEqual(ev(':s 255 n :I have 5758 clients and 1 servers', false), { type: 'server_info', users: 5758, services: 0, servers: 1 });
  assert.deepEqual(ev(':s 254 n 56817 :channels formed', false), { type: 'channel_info', chans: 56817 });
  assert.deepEqual(ev(':s 266 tim2 :Current global users: 1  Max: 1', false), { type: 'global_users', prefix: 'tim2 ', msg: 'Current global users: 1  Max: 1' });
  assert.equal(weird(':s 266 x', false), 'invalid_irc_global_users_reply');
  assert.deepEqual(ev(':s 433 * tim :Nickname is already in use', false), { type: 'invalid_nick' });
  assert.deepEqual(ev(':s 381 tim :You are now an IRC operator', false), { type: 'oper_response', got_oper: true });
  assert.deepEqual(ev(':s 491 tim :No O-lines', false), { type: 'oper_response', got_oper: false });
  assert.deepEqual(ev(':s 352 tim #c ~tim host srv tim H*@ :0 Tim', false), {
    type: 'who_line',
    target_nick: 'tim',
    channel: '#c',
    user: 'tim',
    host: 'host',
    server: 'srv',
    nick: 'tim',
    params: 'H*@',
    hops: 0,
    real_name: 'Tim',
  });
  assert.deepEqual(ev(':s 311 me tim tim host * :Tim Real', false), { type: 'whois_user_line', nick: 'tim', user: 'tim', host: 'host', real_name: 'Tim Real' });
  assert.deepEqual(ev(':s 313 me tim :is an IRC operator', false), { type: 'whois_operator_line', nick: 'tim' });
  assert.deepEqual(ev(':s 319 tim_ tim :@#testing', false), { type: 'whois_channel_line', nick: 'tim_', chans: ['tim', ':@#testing'] });
  assert.equal(weird(':s 319 x', false), 'irc_invalid_whois_channel_line');
});

test('splitWords and atoi behave as Zeek and glibc do', () => {
  assert.deepEqual(splitWords('  a  b ', ' '), ['a', 'b']);
  assert.deepEqual(splitWords('', ' '), []);
  assert.deepEqual(splitWords(',,', ','), []);
  assert.equal(atoi('  42abc'), 42);
  assert.equal(atoi('-7'), -7);
  assert.equal(atoi('x'), 0);
  assert.equal(atoi('4294967297'), 1); // cut to 32 bits
  assert.equal(atoi('99999999999999999999999'), -1); // saturates at 2^63-1, whose low 32 bits are all ones
});
