#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Hostile and malformed messages (issue 8). Each is sent as raw bytes over UDP and over TCP (with
# its 2-byte length) to a real cutoverd; the reply (RCODE, flags, sections) or its absence is
# checked, then a normal query on the same socket or connection must be answered. Then, with
# more daemons: CHAOS identity answers (opt-in) and binary labels in the query log; the TCP
# limits: half-sent messages and trickling clients are closed by the idle timeout, a client
# that never reads costs bounded memory, thousands of connections do not get past
# tcp-max-clients nor stop UDP, and running out of descriptors does not make the daemon spin.
# The choices are documented in cutoverd(8), RESPONSES and TCP.
use strict;
use warnings;

use IO::Select;
use IO::Socket::IP;
use Net::DNS;
use Socket qw(SOL_SOCKET SO_LINGER);
use Test::More;
use Time::HiRes qw(time sleep);

use CutoverTest qw(zone_path make_query tcp_exchange timeout_scale slurp wire_header wire_name
		   wire_question wire_opt junk_exchange raise_nofile);

my $t = CutoverTest->new(zones => [ zone_path('example.test') ]);
ok($t->start(threads => 2), 'cutoverd started') or do {
	diag($t->stderr_text);
	done_testing();
	exit;
};

# hostile(NAME, BYTES, WANT...): BYTES over UDP and over TCP. WANT: drop => 1 (no reply), or
# rcode => NAME with optional qd => 0|1 (question echoed), opcode => N, opt => 0|1 (an OPT in
# the reply), answer => N (records in the answer), aa => 0|1, extra => CODE(packet, bytes);
# tcp => { ... } overrides WANT for TCP (tcp => { closed => 1 }: the server closes the
# connection without a reply); only => 'udp' | 'tcp'; at => FIXTURE (default $t).
sub hostile
{
	my ($name, $bytes, %want) = @_;
	my $at = $want{at} // $t;
	for my $proto ('udp', 'tcp') {
		next if $want{only} && $want{only} ne $proto;
		my %w = (%want, $proto eq 'tcp' && $want{tcp} ? %{ $want{tcp} } : ());
		my $r = junk_exchange($at->host, $at->port, $bytes, tcp => $proto eq 'tcp');
		subtest "$name ($proto)" => sub {
			if ($w{closed}) {
				ok($r->{closed} && !@{ $r->{replies} }, 'the connection is closed, no reply');
				ok(answered($proto, $at), 'a new connection is answered');
				return;
			}
			ok($r->{good} && $r->{good}->header->rcode eq 'NOERROR' && $r->{good}->answer == 2,
			   'the next query on the same ' . ($proto eq 'tcp' ? 'connection' : 'socket')
			   . ' is answered') or diag($r->{closed} ? 'closed by the server' : 'no answer');
			if ($w{drop}) {
				is(scalar(@{ $r->{replies} }), 0, 'no reply to it')
					or diag(unpack('H*', $r->{replies}[0]));
				return;
			}
			is(scalar(@{ $r->{replies} }), 1, 'one reply to it') or return;
			check_reply($r->{replies}[0], $bytes, \%w);
		};
	}
	return;
}

sub check_reply
{
	my ($raw, $query, $w) = @_;
	my ($id, $flags, $qd) = unpack('nnn', $raw);
	ok($flags & 0x8000, 'QR set');
	is($id, unpack('n', $query), 'ID echoed');
	is(($flags >> 11) & 0xf, $w->{opcode} // 0, 'opcode ' . ($w->{opcode} // 0));
	ok(!($flags & 0x0080), 'RA clear');
	my $p = Net::DNS::Packet->new(\$raw);
	ok($p, 'the reply parses') or return;
	is($p->header->rcode, $w->{rcode}, "RCODE $w->{rcode}");
	is($qd, $w->{qd}, $w->{qd} ? 'the question echoed' : 'no question') if defined $w->{qd};
	if ($w->{qd} && length($query) >= 12) {
		my $end = 12; # walk the question's labels (plain: pointers are FORMERR there)
		$end += 1 + ord(substr($query, $end, 1)) while ord(substr($query, $end, 1));
		my $qlen = $end + 1 + 4 - 12; # the root label, type and class
		is(unpack('H*', substr($raw, 12, $qlen)), unpack('H*', substr($query, 12, $qlen)),
		   'the question echoed byte for byte');
	}
	if (defined $w->{opt}) {
		my $n = grep { $_->type eq 'OPT' } $p->additional;
		is($n, $w->{opt}, $w->{opt} ? 'an OPT in the reply' : 'no OPT in the reply');
	}
	is(scalar($p->answer), $w->{answer}, "$w->{answer} records in the answer")
		if defined $w->{answer};
	is($p->header->aa ? 1 : 0, $w->{aa}, 'AA ' . ($w->{aa} ? 'set' : 'clear')) if defined $w->{aa};
	$w->{extra}->($p, $raw) if $w->{extra};
	return;
}

# A normal query answered over UDP or TCP, on a new socket or connection.
sub answered
{
	my ($proto, $fixture) = @_;
	$fixture //= $t;
	my $p = $fixture->query('www.example.test', 'A', tcp => $proto eq 'tcp');
	return $p && $p->header->rcode eq 'NOERROR' && $p->answer == 2;
}

# The same, polled (bounded): for when the server has yet to notice that clients left.
sub answered_soon
{
	my ($proto, $fixture) = @_;
	my $deadline = time() + 30 * timeout_scale();
	while (time() < $deadline) {
		return 1 if answered($proto, $fixture);
		sleep(0.2);
	}
	return 0;
}

my $Q = wire_question('www.example.test');
my %formerr = (rcode => 'FORMERR', qd => 0, answer => 0);
my %formerr_q = (rcode => 'FORMERR', qd => 1, answer => 0); # the question was well-formed

# ---------------------------------------------------------------------------------------------
subtest 'controls: well-formed messages built by the same helpers' => sub {
	hostile('a plain query', wire_header(id => 1) . $Q,
		rcode => 'NOERROR', qd => 1, aa => 1, answer => 2, opt => 0);
	hostile('with EDNS', wire_header(id => 2, ar => 1) . $Q . wire_opt(),
		rcode => 'NOERROR', qd => 1, answer => 2, opt => 1);
	hostile('an unknown EDNS option', wire_header(id => 3, ar => 1) . $Q
		. wire_opt(options => [ [ 65001, 'x' x 20 ] ]), rcode => 'NOERROR', answer => 2, opt => 1);
	hostile('a 63-octet label', wire_header(id => 4) . wire_question(('a' x 63) . '.example.test'),
		rcode => 'NXDOMAIN', qd => 1, aa => 1);
	# 255 octets: three 63-octet labels (192), one of 48 (49) and example.test (14).
	my $n255 = join('.', ('b' x 63) x 3, 'c' x 48, 'example.test');
	is(length(wire_name($n255)), 255, 'the longest name is 255 octets');
	hostile('a 255-octet name', wire_header(id => 5) . wire_question($n255),
		rcode => 'NXDOMAIN', qd => 1, aa => 1);
	# An additional record whose owner points back at the question: legal, and ignored.
	hostile('a backward compression pointer in an additional record',
		wire_header(id => 6, ar => 1) . $Q . "\xc0\x0c" . pack('nnNn', 16, 1, 0, 0),
		rcode => 'NOERROR', qd => 1, answer => 2);
};

# ---------------------------------------------------------------------------------------------
subtest 'too short: no reply (nothing to answer to)' => sub {
	hostile('an empty message', '', drop => 1, tcp => { closed => 1 }); # length 0 ends TCP
	hostile('3 bytes', "\x42\x42\x00", drop => 1);
	hostile('11 bytes', substr(wire_header(), 0, 11), drop => 1);
};

subtest 'question count and truncated questions: FORMERR' => sub {
	hostile('a header only (QDCOUNT 1)', wire_header(id => 0x101), %formerr);
	hostile('QDCOUNT 0', wire_header(id => 0x102, qd => 0), %formerr);
	hostile('QDCOUNT 0 with an OPT', wire_header(id => 0x103, qd => 0, ar => 1) . wire_opt(),
		%formerr);
	hostile('QDCOUNT 2', wire_header(id => 0x104, qd => 2) . $Q . wire_question('mail.example.test'),
		%formerr);
	hostile('QDCOUNT 65535', wire_header(id => 0x105, qd => 65535) . $Q, %formerr);
	hostile('the question cut in a label', wire_header(id => 0x106) . "\x03www\x07exam", %formerr);
	hostile('a name without its root label', wire_header(id => 0x107) . "\x03www", %formerr);
	hostile('no type and class', wire_header(id => 0x108) . wire_name('www.example.test'),
		%formerr);
	hostile('no class', wire_header(id => 0x109) . wire_name('www.example.test') . "\0\1",
		%formerr);
};

subtest 'labels longer than 63 and names longer than 255: FORMERR' => sub {
	# 0x40-0xbf: label types 01 and 10 (RFC 6891 5: no extended label types are in use).
	for my $len (0x40, 0x7f, 0x80, 0xbf) {
		hostile(sprintf('label length byte 0x%02x', $len),
			wire_header(id => 0x200 + $len) . chr($len) . ('a' x 63) . "\x07example\x04test\0"
			. pack('nn', 1, 1), %formerr);
	}
	my $n256 = join('.', ('b' x 63) x 3, 'c' x 49, 'example.test');
	is(length(wire_name($n256)), 256, 'a 256-octet name');
	hostile('a 256-octet name', wire_header(id => 0x301) . wire_question($n256), %formerr);
	hostile('a name of 200 one-octet labels',
		wire_header(id => 0x302) . wire_question(join('.', ('a') x 200)), %formerr);
	# Longer than 255 through compression: 64 octets, then a pointer to a 206-octet question.
	my $q206 = wire_question(join('.', ('d' x 63) x 3, 'example.test'));
	hostile('a name over 255 octets through a pointer (additional record)',
		wire_header(id => 0x303, ar => 1) . $q206 . "\x3f" . ('e' x 63) . "\xc0\x0c"
		. pack('nnNn', 16, 1, 0, 0), %formerr_q);
};

subtest 'compression pointers: loops, forward, outside the message: FORMERR' => sub {
	# The question name comes first: nothing precedes it for a pointer to refer to.
	hostile('a pointer in the question, to itself', wire_header(id => 0x401) . "\xc0\x0c\0\1\0\1",
		%formerr);
	hostile('a pointer in the question, to the header', wire_header(id => 0x402) . "\xc0\x00\0\1\0\1",
		%formerr);
	hostile('a pointer in the question, past the end', wire_header(id => 0x403) . "\xc0\xff\0\1\0\1",
		%formerr);
	hostile('a pointer in the question after a label',
		wire_header(id => 0x404) . "\x03www\xc0\x0c\0\1\0\1", %formerr);
	my $ar = length(wire_header() . $Q); # where the additional record's owner starts
	hostile('an additional owner pointing at itself',
		wire_header(id => 0x405, ar => 1) . $Q . pack('CC', 0xc0, $ar) . pack('nnNn', 16, 1, 0, 0),
		%formerr_q);
	hostile('a loop: a label, then a pointer back to it',
		wire_header(id => 0x406, ar => 1) . $Q . "\x01a" . pack('CC', 0xc0, $ar)
		. pack('nnNn', 16, 1, 0, 0), %formerr_q);
	# The owner points forward, into its own RDATA (a well-formed name there).
	hostile('a forward pointer', wire_header(id => 0x407, ar => 1) . $Q . pack('CC', 0xc0, $ar + 12)
		. pack('nnNn', 16, 1, 0, 3) . "\x01b\0", %formerr_q);
	hostile('a pointer cut after its first byte', wire_header(id => 0x408, ar => 1) . $Q . "\xc0",
		%formerr_q);
	# A ladder of pointers to pointers in a record's RDATA (which is not parsed), then records
	# whose owners point at its top: each owner would cost the whole ladder to read. At most
	# 128 pointers per name (a name has no more labels); a 64 KiB message would hold 30,000.
	my $ladder = sub {
		my ($id, $rungs, $size) = @_;
		my $at = length(wire_header() . $Q) + 12; # where the first record's RDATA starts
		my $rd = pack('n', 0xc00c) . join('', map { pack('n', 0xc000 | ($at + 2 * ($_ - 1))) } 1 .. $rungs - 1);
		my $top = pack('n', 0xc000 | ($at + 2 * ($rungs - 1)));
		my $body = $Q . "\xc0\x0c" . pack('nnNn', 16, 1, 0, length $rd) . $rd;
		my $n = 1;
		do { $body .= $top . pack('nnNn', 16, 1, 0, 0); $n++ } while 12 + length($body) + 12 <= $size;
		return wire_header(id => $id, ar => $n) . $body;
	};
	hostile('an owner 128 pointers deep', $ladder->(0x409, 127, 0), # its own, then 127
		rcode => 'NOERROR', qd => 1, answer => 2);
	hostile('an owner 129 pointers deep', $ladder->(0x40a, 128, 0), %formerr_q);
	my $m = $ladder->(0x40b, 29000, 65535);
	hostile('a 64 KiB message of owners 29,001 pointers deep (' . length($m) . ' octets)', $m,
		only => 'tcp', %formerr_q);
};

subtest 'trailing garbage and missing records: FORMERR' => sub {
	hostile('bytes after the question', wire_header(id => 0x501) . $Q . 'garbage', %formerr_q);
	hostile('bytes after the OPT', wire_header(id => 0x502, ar => 1) . $Q . wire_opt() . "\0",
		%formerr_q);
	hostile('ARCOUNT 1 and no record', wire_header(id => 0x503, ar => 1) . $Q, %formerr_q);
	hostile('ARCOUNT 2 and one OPT', wire_header(id => 0x504, ar => 2) . $Q . wire_opt(),
		%formerr_q);
	hostile('an answer record in a query', wire_header(id => 0x505, an => 1) . $Q . "\xc0\x0c"
		. pack('nnNn', 1, 1, 60, 4) . "\xc0\0\2\1", %formerr_q);
};

subtest 'responses (QR=1) are never answered' => sub {
	hostile('QR=1', wire_header(id => 0x601, qr => 1) . $Q, drop => 1);
	hostile('QR=1 with an error RCODE and EDNS', wire_header(id => 0x602, flags => 0x8005, ar => 1)
		. $Q . wire_opt(), drop => 1);
	hostile('QR=1 and garbage', wire_header(id => 0x603, flags => 0xffff) . 'x' x 40, drop => 1);
};

# Opcodes other than QUERY: NOTIMP with the opcode and the question echoed (RFC 1035 4.1.1).
# NOTIFY (4) and UPDATE (5) too: cutoverd is the only server of its zones (no secondaries to
# notify it, no dynamic updates), the answer of a server that does not implement them (RFC
# 1996 3.2, RFC 2136 2.2).
subtest 'opcodes other than QUERY: NOTIMP' => sub {
	for my $op (1 .. 15) {
		my $name = { 1 => 'IQUERY', 2 => 'STATUS', 4 => 'NOTIFY', 5 => 'UPDATE', 6 => 'DSO' }->{$op}
			// "opcode $op";
		hostile($name, wire_header(id => 0x700 + $op, opcode => $op) . wire_question('example.test', 6),
			rcode => 'NOTIMP', opcode => $op, qd => 1, answer => 0);
	}
	# An UPDATE as sent (zone, a prerequisite, an update): NOTIMP too, not FORMERR.
	hostile('UPDATE with records', wire_header(id => 0x7ff, opcode => 5, an => 1, ns => 1)
		. wire_question('example.test', 6) . "\x03new\xc0\x0c" . pack('nnNn', 255, 254, 0, 0)
		. "\x03new\xc0\x0c" . pack('nnNn', 1, 1, 60, 4) . "\xc0\0\2\7",
		rcode => 'NOTIMP', opcode => 5, qd => 1);
};

# ---------------------------------------------------------------------------------------------
subtest 'EDNS (RFC 6891)' => sub {
	for my $v (1, 255) {
		hostile("EDNS version $v", wire_header(id => 0x800 + $v, ar => 1) . $Q . wire_opt(version => $v),
			rcode => 'BADVERS', qd => 1, opt => 1, answer => 0,
			extra => sub { is($_[0]->edns->version, 0, 'the OPT says version 0 (6.1.3)') });
	}
	hostile('two OPT records', wire_header(id => 0x811, ar => 2) . $Q . wire_opt() . wire_opt(),
		%formerr_q);
	hostile('an OPT in the answer section', wire_header(id => 0x812, an => 1) . $Q . wire_opt(),
		%formerr_q);
	hostile('an OPT in the authority section', wire_header(id => 0x813, ns => 1) . $Q . wire_opt(),
		%formerr_q);
	hostile('an OPT whose owner is not the root',
		wire_header(id => 0x814, ar => 1) . $Q . wire_opt(owner => "\xc0\x0c"), %formerr_q);
	hostile('an option longer than the record', wire_header(id => 0x815, ar => 1) . $Q
		. wire_opt(rdlen => 6) . pack('nn', 65001, 8) . 'ab', %formerr_q);
	hostile('an option header cut short', wire_header(id => 0x816, ar => 1) . $Q
		. wire_opt(rdlen => 2) . "\0\x0a", %formerr_q);
	hostile('an RDLENGTH past the end of the message', wire_header(id => 0x817, ar => 1) . $Q
		. wire_opt(rdlen => 100) . "\0\x0a\0\0", %formerr_q);
};

# RFC 7871 6 and 7.2.1: FAMILY 1 (IPv4) or 2 (IPv6), SOURCE PREFIX-LENGTH at most the address's
# bits, exactly ceil(SOURCE/8) address octets with the bits past the prefix zero, SCOPE 0 in a
# query; anything else is FORMERR. One ECS option per message.
subtest 'EDNS Client Subnet (RFC 7871)' => sub {
	my $ecs = sub {
		my ($id, @opts) = @_;
		return wire_header(id => $id, ar => 1) . $Q . wire_opt(options => [ map { [ 8, $_ ] } @opts ]);
	};
	# The reply's OPT is its last record: its option, FAMILY, SOURCE and ADDRESS as sent.
	my $echo = sub {
		my ($src, $addr) = @_;
		my $want = qr/\Q${\pack('nnnC', 8, 4 + length $addr, 1, $src)}\E.\Q$addr\E\z/s;
		return sub { like($_[1], $want, 'the ECS option echoed (7.2.1)') };
	};
	hostile('IPv4 /24 (well-formed)', $ecs->(0x901, pack('nCC', 1, 24, 0) . "\xc6\x33\x64"),
		rcode => 'NOERROR', answer => 2, opt => 1, extra => $echo->(24, "\xc6\x33\x64"));
	hostile('IPv4 /0 without address (well-formed)', $ecs->(0x902, pack('nCC', 1, 0, 0)),
		rcode => 'NOERROR', answer => 2, opt => 1, extra => $echo->(0, ''));
	my @bad = (
		[ 'FAMILY 0', pack('nCC', 0, 0, 0) ],
		[ 'FAMILY 3', pack('nCC', 3, 8, 0) . "\x0a" ],
		[ 'IPv4 /33', pack('nCC', 1, 33, 0) . "\xc6\x33\x64\x00\x00" ],
		[ 'IPv6 /129', pack('nCC', 2, 129, 0) . ("\x20" x 17) ],
		[ 'IPv4 /24 with 4 address octets', pack('nCC', 1, 24, 0) . "\xc6\x33\x64\x00" ],
		[ 'IPv4 /24 with 2 address octets', pack('nCC', 1, 24, 0) . "\xc6\x33" ],
		[ 'IPv4 /20 with bits set past the prefix', pack('nCC', 1, 20, 0) . "\xc6\x33\x6f" ],
		[ 'SCOPE PREFIX-LENGTH 24 in a query', pack('nCC', 1, 24, 24) . "\xc6\x33\x64" ],
		[ 'an option of 3 octets', pack('nC', 1, 24) ],
		[ 'an empty option', '' ],
	);
	my $id = 0x910;
	for my $c (@bad) {
		hostile("ECS: $c->[0]", $ecs->($id++, $c->[1]), %formerr_q);
	}
	hostile('two ECS options', $ecs->($id++, (pack('nCC', 1, 24, 0) . "\xc6\x33\x64") x 2),
		%formerr_q);
};

# ---------------------------------------------------------------------------------------------
# Classes other than IN are refused: cutoverd serves IN zones only. CHAOS identity queries
# (version.bind, id.server and their aliases) are refused too: Knot's answer when no identity
# or version is configured; it tells a scanner nothing.
subtest 'classes other than IN: REFUSED' => sub {
	for my $c ([ 'version.bind', 3 ], [ 'version.server', 3 ], [ 'id.server', 3 ],
		   [ 'hostname.bind', 3 ], [ 'www.example.test', 3 ], [ 'www.example.test', 4 ],
		   [ 'www.example.test', 254 ], [ 'www.example.test', 255 ],
		   [ 'www.example.test', 1234 ]) {
		my ($name, $class) = @$c;
		my $cname = { 3 => 'CH', 4 => 'HS', 254 => 'NONE', 255 => 'ANY' }->{$class} // "CLASS$class";
		hostile("$name $cname TXT", wire_header(id => 0xa00 + $class) . wire_question($name, 16, $class),
			rcode => 'REFUSED', qd => 1, aa => 0, answer => 0);
	}
};

# Zone transfers are not served (there is no transfer ACL yet): REFUSED, what NSD answers a
# client that provide-xfr does not list, and what a resolver or transfer client takes as "not
# here" rather than "not understood". IXFR carries the client's SOA in the authority section
# (RFC 1995 3): REFUSED too, not FORMERR.
subtest 'AXFR and IXFR: REFUSED' => sub {
	hostile('AXFR', wire_header(id => 0xb01) . wire_question('example.test', 252),
		rcode => 'REFUSED', qd => 1, answer => 0);
	hostile('IXFR without an SOA', wire_header(id => 0xb02) . wire_question('example.test', 251),
		rcode => 'REFUSED', qd => 1, answer => 0);
	hostile('IXFR with the client\'s SOA (RFC 1995)', wire_header(id => 0xb03, ns => 1)
		. wire_question('example.test', 251) . "\xc0\x0c" . pack('nnN', 6, 1, 3600)
		. pack('n', 22) . "\0\0" . pack('N5', 1, 3600, 600, 86400, 300),
		rcode => 'REFUSED', qd => 1, answer => 0);
	hostile('IXFR with an OPT in the authority section', wire_header(id => 0xb05, ns => 1)
		. wire_question('example.test', 251) . wire_opt(), %formerr_q);
	hostile('AXFR with EDNS', wire_header(id => 0xb04, ar => 1) . wire_question('example.test', 252)
		. wire_opt(), rcode => 'REFUSED', qd => 1, answer => 0, opt => 1);
};

# ---------------------------------------------------------------------------------------------
# Sizes. TCP takes a message of the largest size its length field allows. UDP takes datagrams
# up to 4096 octets, the most EDNS buffer any client offers (RFC 6891 6.2.5); a larger one is
# dropped (no real client sends one, and its tail would be lost to the receive buffer).
subtest 'large messages' => sub {
	my $padded = sub {
		my ($id, $size) = @_;
		my $head = wire_header(id => $id, ar => 1) . $Q;
		my $pad = $size - length($head) - length(wire_opt()) - 4;
		return $head . wire_opt(options => [ [ 12, "\0" x $pad ] ]); # Padding, RFC 7830
	};
	my $m = $padded->(0xc01, 65535);
	is(length($m), 65535, 'a 65,535-octet query');
	hostile('a 65,535-octet query', $m, only => 'tcp', rcode => 'NOERROR', qd => 1, answer => 2);
	$m = $padded->(0xc02, 4096);
	hostile('a 4,096-octet query', $m, rcode => 'NOERROR', qd => 1, answer => 2);
	$m = $padded->(0xc03, 65507);
	hostile('a 65,507-octet datagram (the largest over IPv4)', $m, only => 'udp', drop => 1);
	hostile('a 65,535-octet message of garbage', wire_header(id => 0xc04) . ('g' x 65523),
		only => 'tcp', %formerr);
};

ok(answered('udp') && answered('tcp'), 'after all this: UDP and TCP answered');
ok($t->running, 'the daemon is still running');
is($t->stop, 0, 'exits 0 on SIGTERM');

# ---------------------------------------------------------------------------------------------
# TCP timing: a second daemon with a 3-second idle timeout. Idle means no complete query for
# that long: it is armed when the connection opens and after each query, never by a byte.
# It also answers CHAOS identity queries (opt-in).
my $u = CutoverTest->new(zones => [ zone_path('example.test') ]);
ok($u->start(threads => 1, args => [ '--tcp-idle-timeout', 3, '--chaos-identity', 'ns1 (test)',
				      '--chaos-version', 'cutover test', '--query-log' ]),
   'cutoverd with a 3 s idle timeout, CHAOS texts and the query log') or diag($u->stderr_text);

# Labels are binary (RFC 2181 11): any octet is echoed as sent, and the query log escapes what
# would split its line or its fields, so a query cannot forge log lines.
subtest 'binary labels: echoed exactly, escaped in the query log' => sub {
	my $name = "\x0dforged\nline x" . "\x03a.b" . "\x02\0\\" . wire_name('example.test');
	hostile('a name with a newline, a space, a dot, a NUL and a backslash',
		wire_header(id => 0xe40) . $name . pack('nn', 1, 1), at => $u,
		rcode => 'NXDOMAIN', qd => 1, aa => 1);
	my @lines = grep { /forged/ } split /\n/, $u->stderr_text;
	is(scalar(@lines), 2, 'one query log line per query (UDP, TCP)') or diag(join("\n", @lines));
	like($lines[0] // '', qr/ name=forged\\010line\\032x\.a\\\.b\.\\000\\\\\.example\.test\. qtype=A /,
	     'escaped as in a zone file (\\DDD, \\.)');
};

subtest 'CHAOS identity queries when configured' => sub {
	my $txt = sub {
		my ($text) = @_;
		return sub {
			my ($rr) = $_[0]->answer;
			ok($rr && $rr->type eq 'TXT' && $rr->class eq 'CH' && $rr->ttl == 0,
			   'a CH TXT record, TTL 0') or return;
			is(lc $rr->owner, lc(($_[0]->question)[0]->qname), 'owned by the question\'s name');
			is(join('', $rr->txtdata), $text, "\"$text\"");
		};
	};
	my $id = 0xe00;
	for my $c ([ 'id.server', 'ns1 (test)' ], [ 'HOSTNAME.bind', 'ns1 (test)' ],
		   [ 'version.bind', 'cutover test' ], [ 'Version.Server', 'cutover test' ]) {
		hostile("$c->[0] CH TXT", wire_header(id => $id++) . wire_question($c->[0], 16, 3), at => $u,
			rcode => 'NOERROR', qd => 1, aa => 1, answer => 1, extra => $txt->($c->[1]));
	}
	hostile('id.server CH TXT with EDNS', wire_header(id => $id++, ar => 1)
		. wire_question('id.server', 16, 3) . wire_opt(), at => $u,
		rcode => 'NOERROR', answer => 1, opt => 1, extra => $txt->('ns1 (test)'));
	hostile('id.server CH A', wire_header(id => $id++) . wire_question('id.server', 1, 3), at => $u,
		rcode => 'REFUSED', answer => 0);
	hostile('authors.bind CH TXT', wire_header(id => $id++) . wire_question('authors.bind', 16, 3),
		at => $u, rcode => 'REFUSED', answer => 0);
	hostile('id.server IN TXT', wire_header(id => $id++) . wire_question('id.server', 16, 1), at => $u,
		rcode => 'REFUSED', answer => 0);
};

# A TCP connection, or undef when the server's backlog does not take it within a bound.
sub connect_to
{
	my ($fixture) = @_;
	return IO::Socket::IP->new(PeerHost => $fixture->host, PeerPort => $fixture->port, Proto => 'tcp',
				   Timeout => 10 * timeout_scale());
}

# Wait (bounded) until the server closes $sock; returns [closed, bytes read before].
sub wait_closed
{
	my ($sock, $limit) = @_;
	my $deadline = time() + ($limit // 60 * timeout_scale());
	my $sel = IO::Select->new($sock);
	my $got = '';
	while (time() < $deadline) {
		next unless $sel->can_read($deadline - time());
		my $n = sysread($sock, my $buf, 4096);
		return [ 1, $got ] if !defined $n || $n == 0;
		$got .= $buf;
	}
	return [ 0, $got ];
}

subtest 'a length prefix with fewer bytes behind it' => sub {
	my $s = connect_to($u);
	ok($s, 'connected') or return;
	syswrite($s, pack('n', 300) . wire_header(id => 0xd01) . $Q);
	my ($closed, $got) = @{ wait_closed($s) };
	ok($closed, 'closed by the server (idle timeout)');
	is(length($got), 0, 'no reply');
	ok(answered('udp', $u) && answered('tcp', $u), 'UDP and TCP answered');
};

subtest 'one byte a second: closed by the idle timeout' => sub {
	my $q = make_query('www.example.test', 'A', id => 0xd02, edns => 1232)->data;
	my $bytes = pack('n', length $q) . $q; # 47 octets: 47 seconds at this pace
	my $s = connect_to($u);
	ok($s, 'connected') or return;
	local $SIG{PIPE} = 'IGNORE';
	my $sel = IO::Select->new($s);
	my ($sent, $closed, $got) = (0, 0, '');
	while ($sent < length $bytes) {
		last unless syswrite($s, substr($bytes, $sent, 1));
		$sent++;
		if ($sel->can_read(1)) {
			my $n = sysread($s, my $buf, 4096);
			$closed = 1, last if !$n;
			$got .= $buf;
		}
	}
	($closed) = @{ wait_closed($s) } unless $closed;
	note("closed after $sent of " . length($bytes) . ' octets');
	ok($closed, 'the server closed the connection');
	cmp_ok($sent, '<', length $bytes, 'before the query was complete (bytes do not reset the timer)');
	is(length($got), 0, 'no reply');
	ok(answered('udp', $u) && answered('tcp', $u), 'UDP and TCP answered');
};

subtest 'after a complete query, the timer starts again' => sub {
	my $s = connect_to($u);
	ok($s, 'connected') or return;
	my $q = make_query('www.example.test', 'A', id => 0xd03)->data;
	syswrite($s, pack('n', length $q) . $q);
	my ($closed, $got) = @{ wait_closed($s) };
	ok($closed, 'closed by the idle timeout after its answer');
	ok(length($got) > 2 && unpack('n', substr($got, 2)) == 0xd03, 'the query was answered first');
};
# A client that pipelines queries and never reads: cutoverd stops reading once 256 KiB of
# answers wait (so its memory stays bounded), then closes the connection when the output has
# not moved for the idle timeout.
sub peak_rss_kb
{
	my ($pid) = @_;
	return (slurp("/proc/$pid/status") =~ /^VmHWM:\s+(\d+)/m)[0] // 0;
}

# The state of a connected loopback socket in /proc/net/tcp ('01' ESTABLISHED), '' once gone.
sub tcp_state
{
	my ($sock) = @_;
	my $me = sprintf('0100007F:%04X', $sock->sockport);
	my $peer = sprintf('0100007F:%04X', $sock->peerport);
	for (split /\n/, slurp('/proc/net/tcp')) {
		my (undef, $l, $r, $st) = split ' ';
		return $st if $l eq $me && $r eq $peer;
	}
	return '';
}

subtest 'a client that does not read its answers' => sub {
	my $q = make_query('big.example.test', 'TXT', id => 0xd04)->data; # about 900 octets each
	my $n = 60000;
	my $all = (pack('n', length $q) . $q) x $n;
	my $s = connect_to($u);
	ok($s, 'connected') or return;
	$s->blocking(0);
	my $rss0 = peak_rss_kb($u->pid);
	my ($off, $moved) = (0, time());
	while ($off < length $all && time() - $moved < 2) {
		my $w = syswrite($s, $all, 65536, $off);
		if ($w) {
			($off, $moved) = ($off + $w, time());
		} else {
			sleep(0.05);
		}
	}
	note("sent $off of " . length($all) . ' octets of queries');
	my $deadline = time() + 60 * timeout_scale();
	sleep(0.2) while tcp_state($s) eq '01' && time() < $deadline;
	isnt(tcp_state($s), '01', 'the server ends the connection without it reading anything');
	my $grown = peak_rss_kb($u->pid) - $rss0;
	note("peak RSS grew by $grown KiB");
	cmp_ok($grown, '<', 16384, "its memory grew by less than 16 MiB ($n answers: 54 MB)");
	my $got = 0;
	while (1) {
		my $r = sysread($s, my $buf, 65536);
		if (defined $r) {
			last if $r == 0;
			$got += $r;
			next;
		}
		last unless $!{EAGAIN} && IO::Select->new($s)->can_read(5); # reset, or nothing more
	}
	note("$got octets of answers were waiting");
	cmp_ok($got, '<', $n * 900, 'not every query was answered');
	ok(answered('udp', $u) && answered('tcp', $u), 'UDP and TCP answered');
};

subtest 'clients that reset the connection right after their queries' => sub {
	my $q = make_query('big.example.test', 'TXT')->data;
	for (1 .. 50) {
		my $s = connect_to($u) or next;
		setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)); # close sends RST
		syswrite($s, (pack('n', length $q) . $q) x 4);
		close $s;
	}
	ok(answered('udp', $u) && answered('tcp', $u), 'UDP and TCP answered after 50 resets');
};
ok($u->running, 'the daemon is still running');
$u->stop;

# ---------------------------------------------------------------------------------------------
# Thousands of connections against tcp-max-clients 10 per worker (2 workers): connections beyond
# the limit are accepted and closed at once (refused: the connections already open are not
# sacrificed to newcomers); UDP is answered throughout. A long idle timeout keeps the admitted
# ones open while they are counted.
my $N = 2000;
my $v = CutoverTest->new(zones => [ zone_path('example.test') ]);
ok($v->start(threads => 2, args => [ '--tcp-max-clients', 10, '--tcp-idle-timeout', 600 ]),
   'cutoverd with --tcp-max-clients 10 and 2 workers') or diag($v->stderr_text);

subtest "$N connections against a limit of 20" => sub {
	my $limit = raise_nofile($N + 100);
	cmp_ok($limit, '>=', $N + 100, "this test may open $N sockets") or return;
	my @socks;
	for (1 .. $N) {
		my $s = connect_to($v) or last;
		push @socks, $s;
	}
	is(scalar(@socks), $N, "$N connections made (the kernel completes them; then cutoverd decides)");
	ok(answered('udp', $v), 'UDP answered with the connections open');
	# Count those the server closes; the admitted ones stay open (idle timeout 600 s).
	my %open = map { fileno($_) => $_ } @socks;
	my $deadline = time() + 120 * timeout_scale();
	while (keys(%open) > 20 && time() < $deadline) {
		my $sel = IO::Select->new(values %open);
		for my $s ($sel->can_read(1)) {
			my $n = sysread($s, my $buf, 512);
			delete $open{ fileno($s) } if !$n;
		}
	}
	my $left = keys %open;
	note("$left connections left open");
	cmp_ok($left, '<=', 20, 'at most 2 x 10 connections stay open');
	cmp_ok($left, '>=', 1, 'some were admitted');
	# None of the survivors is closed within a second more: they are the admitted ones.
	my @late = IO::Select->new(values %open)->can_read(1);
	is(scalar(@late), 0, 'the admitted connections stay open');
	ok(answered('udp', $v), 'UDP answered with the table full');
	my @r = tcp_exchange($v->host, $v->port, [ make_query('www.example.test', 'A')->data ],
			     timeout => 5 * timeout_scale());
	is(scalar(@r), 0, 'a new TCP connection is refused while the table is full');
	close $_ for @socks;
	ok(answered_soon('tcp', $v), 'TCP answered again once the clients have gone');
};
ok($v->running, 'the daemon is still running');
$v->stop;

# ---------------------------------------------------------------------------------------------
# Out of descriptors: with the open-files limit at 64 and a connection limit above it, accept()
# fails with EMFILE while connections wait in the backlog. cutoverd pauses accepting and says
# so once a second; it must not spin on the readable listener (which libevent reports with a
# log line per try), and it accepts again once descriptors are free.
my $w = CutoverTest->new(zones => [ zone_path('example.test') ]);
ok($w->start(threads => 1, wrapper => [ 'prlimit', '--nofile=64' ],
	     args => [ '--tcp-max-clients', 1000, '--tcp-idle-timeout', 600 ]),
   'cutoverd with 64 open files at most') or diag($w->stderr_text);

sub cpu_seconds
{
	my ($pid) = @_;
	my @f = split ' ', (slurp("/proc/$pid/stat") =~ /\)\s+(.*)/s)[0] // '';
	return (($f[11] // 0) + ($f[12] // 0)) / 100; # utime + stime, in clock ticks (USER_HZ)
}

subtest 'EMFILE: no busy loop, accepting resumes' => sub {
	like($w->stderr_text, qr/warning: open-files limit=\d+ need=\d+/, # valgrind keeps a few
	     'a warning at start: the limit is below what tcp-max-clients needs');
	# About 40 are accepted before the limit, the rest wait in the backlog (128).
	my @socks;
	for (1 .. 100) {
		push @socks, connect_to($w) // last;
	}
	is(scalar(@socks), 100, '100 connections made');
	my $deadline = time() + 30 * timeout_scale();
	sleep(0.2) until $w->stderr_text =~ /accept failed|accept\(\)/ || time() > $deadline;
	ok($w->stderr_text =~ /tcp accept failed error="Too many open files"/,
	   'the daemon ran out of descriptors and said so');
	my ($c0, $t0) = (cpu_seconds($w->pid), time());
	sleep(3);
	my ($c1, $t1) = (cpu_seconds($w->pid), time());
	note(sprintf('%.2f s of CPU in %.2f s', $c1 - $c0, $t1 - $t0));
	cmp_ok($c1 - $c0, '<', ($t1 - $t0) / 2, 'it does not spin (less than half a core)');
	my @lines = grep { /accept/ } split /\n/, $w->stderr_text;
	cmp_ok(scalar(@lines), '<=', 60, 'at most one log line a second about it')
		or diag(scalar(@lines) . ' lines, such as: ' . $lines[-1]);
	ok(answered('udp', $w), 'UDP answered meanwhile');
	close $_ for @socks;
	ok(answered_soon('tcp', $w), 'TCP answered once descriptors are free');
};
ok($w->running, 'the daemon is still running');
is($w->stop, 0, 'exits 0 on SIGTERM');

# With room under the hard limit, cutoverd raises its soft limit to what the TCP limits need
# (threads x tcp-max-clients and its own descriptors), so the same connections are all taken.
# Not under valgrind: it emulates the limit for the program and keeps the process's own.
my $x = CutoverTest->new(zones => [ zone_path('example.test') ]);
my $valgrind = ($ENV{CT_TEST_WRAPPER} // '') =~ /valgrind/;
ok($valgrind || $x->start(threads => 1, wrapper => [ 'prlimit', '--nofile=64:4096' ],
			  args => [ '--tcp-max-clients', 1000, '--tcp-idle-timeout', 600 ]),
   'cutoverd with a soft limit of 64 open files and a hard limit of 4096') or diag($x->stderr_text);

subtest 'the soft limit is raised for tcp-max-clients' => sub {
	plan(skip_all => 'valgrind emulates RLIMIT_NOFILE') if $valgrind;
	my $limits = slurp('/proc/' . $x->pid . '/limits');
	my ($soft) = $limits =~ /^Max open files\s+(\d+)/m;
	note("soft limit $soft");
	cmp_ok($soft // 0, '>=', 1000, 'the soft limit covers 1000 connections');
	my @socks;
	for (1 .. 300) {
		push @socks, connect_to($x) // last;
	}
	is(scalar(@socks), 300, '300 connections made');
	ok(answered('tcp', $x), 'one more is answered');
	my @closed = IO::Select->new(@socks)->can_read(1);
	is(scalar(@closed), 0, 'none of the 300 was closed');
	unlike($x->stderr_text, qr/accept failed|open-files/, 'no accept failure, no warning');
	close $_ for @socks;
};
ok($valgrind || $x->running, 'the daemon is still running');
is($valgrind ? 0 : $x->stop, 0, 'exits 0 on SIGTERM');

done_testing();
