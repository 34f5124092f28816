#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Authoritative answers from a real cutoverd serving zones/: every RRset of the zone, CNAME
# chains, negative answers, empty non-terminals, wildcards, delegations, REFUSED, ANY, EDNS0,
# truncation, 0x20 case, bad messages, TCP pipelining, and changes visible to the next query.
use strict;
use warnings;

use IO::Socket::IP;
use Net::DNS;
use Time::HiRes ();
use Test::More;

use CutoverTest qw(zone_path read_zone rrsets_of reply_is rrs make_query query_at send_udp
		   udp_socket recv_udp tcp_exchange section_diff timeout_scale);

my @ZONE = read_zone(zone_path('example.test'));
my @APP = read_zone(zone_path('app.example'));
my $SETS = rrsets_of(@ZONE, @APP);

my $t = CutoverTest->new(zones => [ zone_path('example.test'), zone_path('app.example') ],
			 start => 1, threads => 2);

# The zone file's RRset at OWNER/TYPE (RR objects; dies if the zone has none, so a renamed
# record breaks the test loudly instead of making it vacuous).
sub z
{
	my ($owner, $type) = @_;
	my $set = $SETS->{ lc($owner) . "|$type" };
	die "zones/ have no $type at $owner" unless $set;
	return @$set;
}

# The SOA of a zone as it goes into a negative answer: TTL = min(SOA TTL, minimum), RFC 2308 3.
sub neg_soa
{
	my ($apex) = @_;
	my ($soa) = z($apex, 'SOA');
	my $rr = Net::DNS::RR->new($soa->string);
	$rr->ttl($soa->ttl < $soa->minimum ? $soa->ttl : $soa->minimum);
	return $rr;
}

sub synth
{
	my ($owner, $from) = @_;
	return map {
		my $rr = Net::DNS::RR->new($_->string);
		$rr->owner($owner);
		$rr;
	} @$from;
}

sub ask
{
	my ($name, $type, %o) = @_;
	return $t->query($name, $type, %o);
}

# The reply and its raw bytes.
sub ask2
{
	my ($name, $type, %o) = @_;
	return $t->query_raw($name, $type, %o);
}

my %UDP = (edns => 4096);

# ---------------------------------------------------------------------------------------------
subtest 'the serial served is the file\'s after a first import' => sub {
	my $p = ask('example.test', 'SOA');
	my ($soa) = $p ? grep { $_->type eq 'SOA' } $p->answer : ();
	ok($soa, 'SOA answered') or return;
	is($soa->serial, (z('example.test', 'SOA'))[0]->serial, 'serial as in zones/example.test.zone');
};

# Every RRset of the zones that is authoritative data (not at or below a zone cut) is answered
# exactly, over UDP (EDNS 4096) and TCP (no EDNS): AA set, NOERROR, the answer is the RRset with
# its TTL, and the authority section is empty (no NS RRset added to positive answers).
my @cuts = qw(sub.example.test ext.example.test side.example.test many.example.test);
my @auth_sets = grep {
	my ($owner) = split /\|/, $_;
	!grep { $owner eq $_ || $owner =~ /\.\Q$_\E$/ } @cuts;
} sort keys %$SETS;
cmp_ok(scalar(@auth_sets), '>=', 40, 'the example zones hold at least 40 authoritative RRsets');

for my $transport ('udp', 'tcp') {
	subtest "every authoritative RRset over $transport" => sub {
		for my $key (@auth_sets) {
			my @want = @{ $SETS->{$key} };
			my $owner = $want[0]->owner; # as written in the file, mixed case included
			my $type = $want[0]->type;
			my $p = $transport eq 'tcp' ? ask($owner, $type, tcp => 1) : ask($owner, $type, %UDP);
			reply_is($p, { rcode => 'NOERROR', aa => 1, tc => 0, answer => \@want,
				       authority => [] }, "$owner $type");
		}
	};
}

# ---------------------------------------------------------------------------------------------
# A few cases through real command-line clients, parsing their output.
sub run_client
{
	my (@cmd) = @_;
	my $r = CutoverTest::run_cmd(\@cmd);
	my $out = $r->{out};
	my %res = (exit => $r->{exit}, out => $out);
	($res{status}) = $out =~ /status: (\w+)/;
	($res{flags}) = $out =~ /flags: ([a-z ]*);/i;
	$res{flags} = lc($res{flags} // '');
	$res{answer} = [ grep { /^\S+\.\s+\d+\s+IN\s+\w+/ } split /\n/, ($out =~ /ANSWER SECTION:\n(.*?)(?:\n\n|\z)/s)[0] // '' ];
	$res{authority} = [ grep { /^\S+\.\s+\d+\s+IN\s+\w+/ } split /\n/, ($out =~ /AUTHORITY SECTION:\n(.*?)(?:\n\n|\z)/s)[0] // '' ];
	return \%res;
}

SKIP: {
	skip('dig is not installed (Debian bind9-dnsutils)', 1) unless -x '/usr/bin/dig';
	subtest 'dig' => sub {
		my @dig = ('dig', '@127.0.0.1', '-p', $t->port, '+norec', '+time=10', '+tries=1');
		for my $tcp ('', '+tcp') {
			my $r = run_client(@dig, grep({ $_ } $tcp), 'www.example.test', 'A');
			is($r->{exit}, 0, "dig $tcp www A exits 0") or diag($r->{out});
			is($r->{status}, 'NOERROR', "dig $tcp: NOERROR");
			like($r->{flags}, qr/\baa\b/, "dig $tcp: aa flag");
			is(scalar(@{ $r->{answer} }), 2, "dig $tcp: two answers") or diag($r->{out});
			like(join("\n", @{ $r->{answer} }), qr/192\.0\.2\.10/, "dig $tcp: 192.0.2.10");
			like(join("\n", @{ $r->{answer} }), qr/192\.0\.2\.11/, "dig $tcp: 192.0.2.11");
		}
		my $r = run_client(@dig, 'nope.example.test', 'A');
		is($r->{status}, 'NXDOMAIN', 'dig: NXDOMAIN') or diag($r->{out});
		like($r->{authority}[0] // '', qr/^example\.test\.\s+300\s+IN\s+SOA\s/,
		     'dig: SOA in authority with TTL 300');
		$r = run_client(@dig, '+dnssec', '+bufsize=1232', 'big.example.test', 'TXT');
		is($r->{status}, 'NOERROR', 'dig +dnssec big TXT');
		is(scalar(@{ $r->{answer} }), 12, 'dig: all 12 TXT records with EDNS') or diag($r->{out});
		$r = run_client(@dig, '+cookie', 'www.example.test', 'AAAA');
		is($r->{status}, 'NOERROR', 'dig with a COOKIE option: answered (unknown options ignored)')
			or diag($r->{out});
	};
}

SKIP: {
	skip('kdig is not installed (Debian knot-dnsutils)', 1) unless -x '/usr/bin/kdig';
	subtest 'kdig' => sub {
		my @kdig = ('kdig', '@127.0.0.1', '-p', $t->port, '+norec', '+time=10', '+retry=0');
		my $r = run_client(@kdig, 'chain1.example.test', 'A');
		is($r->{status}, 'NOERROR', 'kdig chain1 A') or diag($r->{out});
		is(scalar(@{ $r->{answer} }), 5, 'kdig: three CNAMEs and two A') or diag($r->{out});
		$r = run_client(@kdig, '+tcp', 'b.c.example.test', 'A');
		is($r->{status}, 'NOERROR', 'kdig +tcp empty non-terminal: NOERROR') or diag($r->{out});
		is(scalar(@{ $r->{answer} }), 0, 'kdig: no answer');
		$r = run_client(@kdig, 'www.example.com', 'A');
		is($r->{status}, 'REFUSED', 'kdig: REFUSED outside our zones') or diag($r->{out});
	};
}

# ---------------------------------------------------------------------------------------------
subtest 'CNAME' => sub {
	my @chain = (z('chain1.example.test', 'CNAME'), z('chain2.example.test', 'CNAME'),
		     z('chain3.example.test', 'CNAME'));
	for my $tcp (0, 1) {
		my $how = $tcp ? 'TCP' : 'UDP';
		my $p = ask('chain1.example.test', 'A', tcp => $tcp);
		reply_is($p, { rcode => 'NOERROR', aa => 1, tc => 0,
			       answer => [ @chain, z('www.example.test', 'A') ], authority => [] },
			 "$how: a chain of three CNAMEs is followed to www A");
		is($p && lc(($p->answer)[0]->owner), 'chain1.example.test',
		   "$how: the chain starts at the qname (RFC 1034 4.3.2)");
	}
	reply_is(ask('chain1.example.test', 'AAAA', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ @chain, z('www.example.test', 'AAAA') ] },
		 'chain1 AAAA: the chain and www AAAA');
	reply_is(ask('chain2.example.test', 'TXT', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ @chain[ 1, 2 ] ],
		   authority => [ neg_soa('example.test') ] },
		 'chain2 TXT: the chain, then NODATA at www (SOA in authority)');
	reply_is(ask('chain1.example.test', 'CNAME', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ $chain[0] ], authority => [] },
		 'chain1 CNAME: the CNAME only, not followed');
	reply_is(ask('outside.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ z('outside.example.test', 'CNAME') ],
		   authority => [] },
		 'CNAME to a name outside our zones: only the CNAME');
	reply_is(ask('dangling.example.test', 'A', %UDP),
		 { rcode => 'NXDOMAIN', aa => 1, answer => [ z('dangling.example.test', 'CNAME') ],
		   authority => [ neg_soa('example.test') ] },
		 'CNAME to a missing in-zone name: CNAME + NXDOMAIN (RFC 6604 2.1)');
	reply_is(ask('tomail.example.test', 'TXT', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ z('tomail.example.test', 'CNAME') ],
		   authority => [ neg_soa('example.test') ] },
		 'CNAME to a name without the type: CNAME + NODATA');
	reply_is(ask('todeleg.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ z('todeleg.example.test', 'CNAME') ],
		   authority => [ z('sub.example.test', 'NS') ],
		   additional => [ z('ns1.sub.example.test', 'A'), z('ns1.sub.example.test', 'AAAA'),
				   z('ns2.sub.example.test', 'A') ] },
		 'CNAME into a delegation: the CNAME (AA), then the referral with glue');
	my $p = ask('loop1.example.test', 'A', %UDP);
	ok($p && grep({ $p->header->rcode eq $_ } qw(NOERROR SERVFAIL)),
	   'a CNAME loop is answered (NOERROR or SERVFAIL)') or diag($p ? $p->string : 'no reply');
	my @loop = $p ? $p->answer : ();
	my %k = map { (CutoverTest::rr_key($_) => 1) } @loop;
	ok(@loop >= 1 && lc($loop[0]->owner) eq 'loop1.example.test' && keys(%k) == @loop,
	   'a CNAME loop: the chain from the qname, no record twice');
	# Another zone of ours: following into it is allowed (RFC 1034 4.3.2 restarts at step 1)
	# but not required; the answer is the CNAME, optionally followed by www.app.example A.
	$p = ask('toapp.example.test', 'A', %UDP);
	my @cross = $p ? $p->answer : ();
	ok($p && $p->header->rcode eq 'NOERROR' && $p->header->aa, 'CNAME to another served zone: NOERROR, AA');
	my $d = section_diff('answer', [ $cross[0] // () ], [ z('toapp.example.test', 'CNAME') ]);
	ok($d eq '', 'the CNAME comes first') or diag($d);
	if (@cross > 1) {
		$d = section_diff('answer', [ @cross[ 1 .. $#cross ] ], [ z('www.app.example', 'A') ]);
		ok($d eq '', 'followed into app.example: www.app.example A') or diag($d);
		note('cross-zone CNAME: followed into the other zone');
	} else {
		note('cross-zone CNAME: not followed (only the CNAME)');
	}
	reply_is(ask('x.cwild.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 1,
		   answer => [ synth('x.cwild.example.test', [ z('*.cwild.example.test', 'CNAME') ]),
			       z('www.example.test', 'A') ] },
		 'a wildcard CNAME is synthesised at the qname and followed');
};

# ---------------------------------------------------------------------------------------------
subtest 'NXDOMAIN and NODATA with the SOA, TTL = min(SOA TTL, minimum) (RFC 2308 3)' => sub {
	my $soa = neg_soa('example.test');
	is($soa->ttl, 300, 'example.test: negative TTL is the minimum (300 < 3600)');
	my $app = neg_soa('app.example');
	is($app->ttl, 60, 'app.example: negative TTL is the SOA TTL (60 < 300)');
	for my $tcp (0, 1) {
		my $how = $tcp ? 'TCP' : 'UDP';
		my %o = $tcp ? (tcp => 1) : ();
		reply_is(ask('nope.example.test', 'A', %o),
			 { rcode => 'NXDOMAIN', aa => 1, tc => 0, answer => [], authority => [$soa],
			   additional => [] }, "$how: nope A is NXDOMAIN");
		reply_is(ask('x.y.nope.example.test', 'MX', %o),
			 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [$soa] },
			 "$how: a deeper missing name is NXDOMAIN");
		reply_is(ask('nope.app.example', 'A', %o),
			 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [$app] },
			 "$how: NXDOMAIN in app.example, SOA TTL 60");
		reply_is(ask('www.example.test', 'TXT', %o),
			 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$soa],
			   additional => [] }, "$how: www TXT is NODATA");
		reply_is(ask('example.test', 'AAAA', %o),
			 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$soa] },
			 "$how: NODATA at the apex");
		reply_is(ask('www.app.example', 'MX', %o),
			 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$app] },
			 "$how: NODATA in app.example, SOA TTL 60");
		reply_is(ask('nothing-here.example.test', 'A', %o),
			 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [$soa] },
			 "$how: the dangling CNAME's target is NXDOMAIN itself");
	}
	reply_is(ask('unknown.example.test', 'TYPE65401', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$soa] },
		 'NODATA for another unknown type at a node with an unknown type');
};

subtest 'empty non-terminals are NODATA, not NXDOMAIN' => sub {
	my $soa = neg_soa('example.test');
	for my $name (qw(b.c.example.test c.example.test Case.example.test lab.example.test
			 _tcp.example.test ptr.example.test)) {
		for my $type (qw(A TXT)) {
			reply_is(ask($name, $type, %UDP),
				 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$soa] },
				 "$name $type");
		}
	}
	reply_is(ask('a.b.c.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ z('a.b.c.example.test', 'A') ] },
		 'the name below the empty non-terminals exists');
	reply_is(ask('x.b.c.example.test', 'A', %UDP),
		 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [$soa] },
		 'a sibling below an empty non-terminal is NXDOMAIN');
};

# ---------------------------------------------------------------------------------------------
subtest 'wildcards (RFC 4592)' => sub {
	my $soa = neg_soa('example.test');
	my @wa = z('*.wild.example.test', 'A');
	my @wt = z('*.wild.example.test', 'TXT');
	for my $tcp (0, 1) {
		my $how = $tcp ? 'TCP' : 'UDP';
		my $p = ask('foo.wild.example.test', 'A', tcp => $tcp);
		reply_is($p, { rcode => 'NOERROR', aa => 1, tc => 0,
			       answer => [ synth('foo.wild.example.test', \@wa) ], authority => [] },
			 "$how: foo.wild A is synthesised with owner = qname");
	}
	reply_is(ask('Foo.Bar.WILD.example.test', 'TXT', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ synth('foo.bar.wild.example.test', \@wt) ] },
		 'two labels below the wildcard\'s parent: synthesised (TXT)');
	reply_is(ask('foo.wild.example.test', 'AAAA', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$soa] },
		 'a type the wildcard lacks: NODATA');
	reply_is(ask('host.wild.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [ z('host.wild.example.test', 'A') ] },
		 'an existing name is answered from its own data');
	reply_is(ask('host.wild.example.test', 'TXT', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$soa] },
		 'the wildcard is not applied at an existing name (NODATA, not the wildcard TXT)');
	reply_is(ask('deep.host.wild.example.test', 'A', %UDP),
		 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [$soa] },
		 'closest encloser host.wild has no wildcard: NXDOMAIN (RFC 4592 3.3.1)');
	reply_is(ask('wild.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$soa] },
		 'the wildcard\'s parent is an empty non-terminal: NODATA');
	reply_is(ask('*.wild.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => \@wa },
		 'asking for the wildcard owner itself');
	reply_is(ask('ghost.*.wild.example.test', 'A', %UDP),
		 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [$soa] },
		 'below the wildcard owner: its closest encloser is *.wild, no *.*.wild: NXDOMAIN '
		 . '(RFC 4592 2.2.1, ghost.*.example)');
	reply_is(ask('foo.example.test', 'A', %UDP),
		 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [$soa] },
		 'no wildcard at the apex: NXDOMAIN beside the wildcards');
};

# ---------------------------------------------------------------------------------------------
subtest 'delegations: referrals with glue, AA clear' => sub {
	my @sub_ns = z('sub.example.test', 'NS');
	my @glue = (z('ns1.sub.example.test', 'A'), z('ns1.sub.example.test', 'AAAA'),
		    z('ns2.sub.example.test', 'A'));
	for my $tcp (0, 1) {
		my $how = $tcp ? 'TCP' : 'UDP';
		my %o = $tcp ? (tcp => 1) : %UDP;
		for my $q ([ 'sub.example.test', 'A' ], [ 'www.sub.example.test', 'A' ],
			   [ 'a.b.sub.example.test', 'MX' ], [ 'ns1.sub.example.test', 'A' ],
			   [ 'sub.example.test', 'NS' ], [ 'SUB.Example.Test', 'AAAA' ]) {
			reply_is(ask(@$q, %o), { rcode => 'NOERROR', aa => 0, tc => 0, answer => [],
					       authority => \@sub_ns, additional => \@glue },
				 "$how: @$q is a referral to sub with all glue");
		}
	}
	# 13 in-bailiwick name servers with A and AAAA glue: too big for 512 bytes. All the glue,
	# or TC set (RFC 9471 3.1: glue for in-domain name servers is not optional).
	my @many_ns = z('many.example.test', 'NS');
	my @many_glue = map { my $n = sprintf('ns%02d.many.example.test', $_);
			      (z($n, 'A'), z($n, 'AAAA')) } 1 .. 13;
	for my $c ([ 'UDP', {} ], [ 'UDP EDNS 512', { edns => 512 } ]) {
		my ($r, $bytes) = ask2('x.many.example.test', 'A', %{ $c->[1] });
		ok($r, "$c->[0]: referral to 13 servers: a reply") or next;
		is($r->header->rcode, 'NOERROR', "$c->[0]: NOERROR");
		ok(!$r->header->aa, "$c->[0]: AA clear");
		my @glue = grep { $_->type ne 'OPT' } $r->additional;
		ok($r->header->tc || @glue == @many_glue,
		   "$c->[0]: all " . scalar(@many_glue) . ' glue records or TC set (RFC 9471 3.1)')
			or diag('TC clear with ' . scalar(@glue) . ' of ' . scalar(@many_glue)
				. " glue records; reply of " . length($bytes) . ' bytes');
	}
	for my $c ([ 'UDP EDNS 1232', %UDP ], [ 'TCP', tcp => 1 ]) {
		my ($how, %o) = @$c;
		reply_is(ask('x.many.example.test', 'A', %o),
			 { rcode => 'NOERROR', aa => 0, tc => 0, answer => [], authority => \@many_ns,
			   additional => \@many_glue }, "$how: referral to 13 servers with all 26 glue records");
	}
	reply_is(ask('x.ext.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 0, answer => [], authority => [ z('ext.example.test', 'NS') ],
		   additional => [] }, 'out-of-zone name servers: referral without glue');
	reply_is(ask('ext.example.test', 'TXT', %UDP),
		 { rcode => 'NOERROR', aa => 0, answer => [], authority => [ z('ext.example.test', 'NS') ] },
		 'any type at the cut itself is a referral');
	reply_is(ask('deep.side.example.test', 'A', %UDP),
		 { rcode => 'NOERROR', aa => 0, answer => [], authority => [ z('side.example.test', 'NS') ] },
		 'delegation to an in-zone host: referral');
};

# ---------------------------------------------------------------------------------------------
# Parent and child zone on one server: below the cut the child is authoritative, so names in
# it are answered (AA) instead of referred (RFC 1034 4.3.2 step 2: the nearest zone).
subtest 'a child zone served beside its parent' => sub {
	my $child = $t->dir . '/sub.example.test.zone';
	open(my $fh, '>', $child) or die $!;
	print $fh <<'EOF';
$ORIGIN sub.example.test.
$TTL 600
@	IN SOA	ns1 hostmaster 7 3600 600 86400 120
	IN NS	ns1
	IN NS	ns2
ns1	IN A	192.0.2.100
	IN AAAA	2001:db8::100
ns2	IN A	192.0.2.101
www	IN A	192.0.2.199
EOF
	close $fh or die $!;
	my $s = CutoverTest->new(zones => [ zone_path('example.test'), $child ], start => 1);
	my ($csoa) = grep { $_->type eq 'SOA' } read_zone($child);
	my $neg = Net::DNS::RR->new($csoa->string);
	$neg->ttl(120);
	reply_is($s->query('www.sub.example.test', 'A'),
		 { rcode => 'NOERROR', aa => 1, answer => [ 'www.sub.example.test. 600 IN A 192.0.2.199' ],
		   authority => [] }, 'a name in the child: answered from the child, AA');
	reply_is($s->query('sub.example.test', 'NS'),
		 { rcode => 'NOERROR', aa => 1, answer => [ 'sub.example.test. 600 IN NS ns1.sub.example.test.',
							    'sub.example.test. 600 IN NS ns2.sub.example.test.' ] },
		 'NS at the cut: the child\'s apex NS, AA');
	reply_is($s->query('nope.sub.example.test', 'A'),
		 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [$neg] },
		 'NXDOMAIN in the child with the child\'s SOA');
	reply_is($s->query('www.example.test', 'A'),
		 { rcode => 'NOERROR', aa => 1, answer => [ z('www.example.test', 'A') ] },
		 'the parent is still answered');
	my $r = $s->ctl(qw(zone delete sub.example.test));
	is($r->{exit}, 0, 'delete the child') or diag($r->{err});
	reply_is($s->query('www.sub.example.test', 'A'),
		 { rcode => 'NOERROR', aa => 0, answer => [], authority => [ z('sub.example.test', 'NS') ] },
		 'without the child: the parent\'s referral again, at once');
	is($s->stop, 0, 'exits 0 on SIGTERM');
};

# ---------------------------------------------------------------------------------------------
subtest 'REFUSED outside our zones' => sub {
	for my $q ([ 'www.example.com', 'A' ], [ 'test', 'SOA' ], [ 'example', 'NS' ],
		   [ 'xample.test', 'A' ], [ 'notexample.test', 'A' ], [ '.', 'NS' ],
		   [ 'app.example.net', 'A' ]) {
		for my $tcp (0, 1) {
			my $p = ask(@$q, tcp => $tcp);
			reply_is($p, { rcode => 'REFUSED', aa => 0, answer => [], authority => [] },
				 ($tcp ? 'TCP' : 'UDP') . ": @$q");
		}
	}
	my $p = ask('version.bind', 'TXT', class => 'CH');
	ok($p && grep({ $p->header->rcode eq $_ } qw(REFUSED NOTIMP)),
	   'CHAOS class: REFUSED or NOTIMP') or diag($p ? $p->string : 'no reply');
};

# ---------------------------------------------------------------------------------------------
# RFC 8482: ANY is answered with one RRset (or a synthesised HINFO, section 4.2), not the whole
# node. cutoverd's choice: one whole RRset of the node (the A RRset where there is one: at big,
# www and the apex), over TCP as well as UDP. The test accepts any single complete RRset of the
# node, or HINFO, and notes which it got.
sub any_ok
{
	my ($name, $node_types, %o) = @_;
	my $p = ask($name, 'ANY', %o);
	return subtest "ANY $name" . ($o{tcp} ? ' (TCP)' : '') => sub {
		ok($p, 'a reply') or return;
		is($p->header->rcode, 'NOERROR', 'NOERROR');
		ok($p->header->aa, 'AA set');
		my @ans = $p->answer;
		cmp_ok(scalar(@ans), '>=', 1, 'at least one record');
		my %types = map { ($_->type => 1) } @ans;
		my %owners = map { (lc($_->owner) => 1) } @ans;
		is(scalar(keys %owners), 1, 'all records have the qname as owner');
		if (keys(%types) == 1 && $ans[0]->type eq 'HINFO') {
			note("ANY $name: answered with a synthesised HINFO (RFC 8482 4.2)");
			pass('HINFO choice');
			return;
		}
		cmp_ok(scalar(keys %types), '<', scalar(@$node_types),
		       "fewer types than the node's @$node_types") unless $o{tcp};
		for my $type (sort keys %types) {
			ok(grep({ $_ eq $type } @$node_types), "$type exists at the node");
			my @want = $o{synth} ? synth(lc $name, [ z($o{synth}, $type) ]) : z($name, $type);
			my $d = section_diff('answer', [ grep { $_->type eq $type } @ans ], \@want);
			ok($d eq '', "the $type RRset is complete and exact") or diag($d);
		}
		note("ANY $name: answered with " . join(',', sort keys %types));
	};
}

subtest 'ANY (RFC 8482)' => sub {
	any_ok('big.example.test', [qw(A AAAA MX TXT)], %UDP);
	any_ok('big.example.test', [qw(A AAAA MX TXT)], tcp => 1);
	any_ok('example.test', [qw(SOA NS MX TXT CAA A)], %UDP);
	any_ok('www.example.test', [qw(A AAAA)], %UDP);
	any_ok('foo.wild.example.test', [qw(A TXT)], %UDP, synth => '*.wild.example.test');
	reply_is(ask('nope.example.test', 'ANY', %UDP),
		 { rcode => 'NXDOMAIN', aa => 1, answer => [], authority => [ neg_soa('example.test') ] },
		 'ANY at a missing name: NXDOMAIN');
	reply_is(ask('b.c.example.test', 'ANY', %UDP),
		 { rcode => 'NOERROR', aa => 1, answer => [], authority => [ neg_soa('example.test') ] },
		 'ANY at an empty non-terminal: NODATA');
	reply_is(ask('chain1.example.test', 'ANY', %UDP),
		 { rcode => 'NOERROR', aa => 1 }, 'ANY at a CNAME: answered');
	reply_is(ask('www.sub.example.test', 'ANY', %UDP),
		 { rcode => 'NOERROR', aa => 0, answer => [], authority => [ z('sub.example.test', 'NS') ] },
		 'ANY below a cut: referral');
};

# ---------------------------------------------------------------------------------------------
subtest 'query types without data of their own' => sub {
	my $soa = neg_soa('example.test');
	# DNSSEC types in an unsigned zone: NODATA like any absent type.
	for my $type (qw(DS DNSKEY RRSIG NSEC NSEC3 HINFO TYPE65401)) {
		reply_is(ask('www.example.test', $type, %UDP),
			 { rcode => 'NOERROR', aa => 1, answer => [], authority => [$soa] },
			 "www $type: NODATA");
	}
	# Reserved and meta types as QTYPE (RFC 6895 3.1): whatever the RCODE (NODATA, FORMERR,
	# NOTIMP or REFUSED are all seen in servers), never records of another type.
	for my $type ([ 'TYPE0', 0 ], [ 'OPT', 41 ], [ 'TKEY', 249 ], [ 'TSIG', 250 ],
		      [ 'MAILB', 253 ], [ 'MAILA', 254 ], [ 'TYPE65535', 65535 ]) {
		my $p = ask('www.example.test', $type->[0], %UDP);
		ok($p, "QTYPE $type->[1] ($type->[0]): a reply") or next;
		is(join(' ', map { $_->type } $p->answer), '', "QTYPE $type->[1]: no answer records")
			or diag($p->string);
	}
};

# ---------------------------------------------------------------------------------------------
sub opt_of
{
	my ($p) = @_;
	return grep { $_->type eq 'OPT' } $p->additional;
}

subtest 'EDNS0 (RFC 6891) and truncation' => sub {
	my $p = ask('www.example.test', 'A', edns => 1232);
	ok($p && opt_of($p) == 1, 'EDNS query: one OPT in the reply') or return;
	is($p->edns->version, 0, 'OPT version 0');
	cmp_ok($p->edns->size, '>=', 512, 'the server advertises a payload size >= 512');

	$p = ask('www.example.test', 'A');
	ok($p && opt_of($p) == 0, 'query without EDNS: no OPT in the reply (RFC 6891 7)');

	$p = ask('www.example.test', 'A', edns => 1232, do => 1);
	ok($p && $p->header->do, 'the DO bit is copied into the reply (RFC 3225 3)');
	$p = ask('www.example.test', 'A', edns => 1232);
	ok($p && !$p->header->do, 'DO clear when the query has it clear');

	my $q = make_query('www.example.test', 'A', edns => 1232);
	$q->edns->option(65001 => 'unknown option payload');
	$p = query_at($t->host, $t->port, undef, undef, packet => $q);
	reply_is($p, { rcode => 'NOERROR', aa => 1, answer => [ z('www.example.test', 'A') ] },
		 'an unknown EDNS option is ignored (RFC 6891 6.1.2)');

	$p = ask('www.example.test', 'A', edns => 1232, edns_version => 1);
	ok($p, 'EDNS version 1: a reply') or return;
	is($p->header->rcode, 'BADVERS', 'EDNS version 1: BADVERS (extended RCODE 16)');
	ok(opt_of($p) == 1 && $p->edns->version == 0, 'BADVERS: OPT with version 0 (RFC 6891 6.1.3)');
	is(scalar($p->answer), 0, 'BADVERS: no answer');

	# Two OPT records: FORMERR (RFC 6891 6.1.1).
	$q = make_query('www.example.test', 'A', edns => 1232);
	my $wire = $q->data;
	my $opt = substr($wire, -11);
	substr($wire, 10, 2, pack('n', 2));
	my $raw = send_udp($t->host, $t->port, $wire . $opt);
	ok($raw, 'two OPT records: a reply') or return;
	$p = Net::DNS::Packet->new(\$raw);
	is($p && $p->header->rcode, 'FORMERR', 'two OPT records: FORMERR');

	# Sizes: an answer never exceeds what the client can take.
	my @big = z('big.example.test', 'TXT');
	for my $c ([ 'no EDNS', {}, 512, 1 ], [ 'EDNS 512', { edns => 512 }, 512, 1 ],
		   [ 'EDNS 100 (taken as 512, RFC 6891 6.2.5)', { edns => 100 }, 512, 1 ],
		   [ 'EDNS 1232', { edns => 1232 }, 1232, 0 ], [ 'EDNS 4096', { edns => 4096 }, 4096, 0 ]) {
		my ($what, $o, $max, $tc) = @$c;
		my ($r, $bytes) = ask2('big.example.test', 'TXT', %$o);
		ok($r, "big TXT, $what: a reply") or next;
		cmp_ok(length($bytes), '<=', $max, "big TXT, $what: reply of at most $max bytes");
		is($r->header->tc ? 1 : 0, $tc, "big TXT, $what: TC " . ($tc ? 'set' : 'clear'));
		is($r->header->rcode, 'NOERROR', "big TXT, $what: NOERROR");
		ok($r->header->aa, "big TXT, $what: AA");
		my $n = grep { $_->type eq 'TXT' } $r->answer;
		if ($tc) {
			is($n, 0, "big TXT, $what: no partial RRset in the answer (RFC 2181 9)");
		} else {
			is($n, scalar(@big), "big TXT, $what: all " . scalar(@big) . ' records');
		}
	}
	reply_is(ask('big.example.test', 'TXT', tcp => 1),
		 { rcode => 'NOERROR', aa => 1, tc => 0, answer => \@big },
		 'big TXT over TCP without EDNS: complete, TC clear');
	my ($r, $bytes) = ask2('long.example.test', 'TXT');
	ok($r && $r->header->tc, 'a single 630-byte TXT record over UDP without EDNS: TC set');
	ok($r && !$r->answer, '... and not in the answer');
	reply_is(ask('long.example.test', 'TXT', tcp => 1),
		 { rcode => 'NOERROR', tc => 0, answer => [ z('long.example.test', 'TXT') ] },
		 'long TXT over TCP: complete');
	($r, $bytes) = ask2('www.example.test', 'A', edns => 100);
	ok($r && !$r->header->tc && $r->answer == 2, 'EDNS 100: a small answer is not truncated');
};

# ---------------------------------------------------------------------------------------------
subtest 'header: ID, RD, the question echoed byte for byte (0x20)' => sub {
	for my $c ([ 'wWw.ExAmPlE.tEsT', 'A', 'NOERROR' ], [ 'NoPe.EXAMPLE.test', 'A', 'NXDOMAIN' ],
		   [ 'WWW.EXAMPLE.COM', 'A', 'REFUSED' ], [ 'fOo.WiLd.example.TEST', 'TXT', 'NOERROR' ],
		   [ 'Www.Sub.Example.Test', 'A', 'NOERROR' ]) {
		my ($name, $type, $rcode) = @$c;
		for my $tcp (0, 1) {
			my $q = make_query($name, $type, id => 0xbeef, rd => 1);
			my $qw = $q->data;
			my ($r, $raw) = query_at($t->host, $t->port, undef, undef, packet => $q, tcp => $tcp);
			my $how = $tcp ? 'TCP' : 'UDP';
			ok($r, "$how $name: reply") or next;
			is($r->header->rcode, $rcode, "$how $name: $rcode");
			is($r->header->id, 0xbeef, "$how $name: ID echoed");
			ok($r->header->rd && !$r->header->ra, "$how $name: RD copied, RA clear");
			is(unpack('H*', substr($raw, 12, length($qw) - 12)), unpack('H*', substr($qw, 12)),
			   "$how $name: question echoed with the client's letter case");
		}
	}
	# Name compression: the owner of the first answer points at the question.
	my ($r, $raw) = ask2('www.example.test', 'A');
	like(unpack('H*', substr($raw, 12 + 22)), qr/^c00c/, 'answer owner compressed to the question');
};

# ---------------------------------------------------------------------------------------------
# Datagrams that must not be answered, or only with an error. After each, a good query on the
# same socket must be answered: the replies that come before its reply are checked.
sub after_junk
{
	my ($wire, $desc, %o) = @_;
	my $sock = udp_socket($t->host, $t->port);
	$sock->send($wire);
	my $good = make_query('www.example.test', 'A', id => 0x6060);
	$sock->send($good->data);
	my @junk;
	my $ok;
	while (defined(my $d = recv_udp($sock, 10 * timeout_scale()))) {
		if (length($d) >= 12 && unpack('n', $d) == 0x6060) {
			$ok = Net::DNS::Packet->new(\$d);
			last;
		}
		push @junk, $d;
	}
	return subtest $desc => sub {
		ok($ok && $ok->header->rcode eq 'NOERROR' && $ok->answer == 2,
		   'the next good query is answered');
		if ($o{drop}) {
			is(scalar(@junk), 0, 'no reply to it') or diag(unpack('H*', $junk[0]));
		} elsif ($o{rcode}) {
			is(scalar(@junk), 1, 'one reply to it') or return;
			my $p = Net::DNS::Packet->new(\$junk[0]);
			ok($p && $p->header->qr, 'the reply has QR set');
			is($p && $p->header->rcode, $o{rcode}, "RCODE $o{rcode}");
			is($p && $p->header->id, unpack('n', $wire), 'ID echoed');
			is($p && $p->header->opcode, $o{opcode}, "opcode $o{opcode} echoed") if $o{opcode};
		} else {
			cmp_ok(scalar(@junk), '<=', 1, 'at most one reply to it');
			for (@junk) {
				my ($id, $flags) = unpack('nn', $_);
				ok(($flags & 0x8000) && ($flags & 0xf) == 1,
				   'if answered: QR set and FORMERR') or diag(unpack('H*', $_));
				is($id, unpack('n', $wire), 'if answered: ID echoed');
			}
		}
	};
}

sub hdr
{
	my (%h) = @_;
	return pack('n6', $h{id} // 0x4242, $h{flags} // 0, $h{qd} // 1, $h{an} // 0, $h{ns} // 0,
		    $h{ar} // 0);
}

sub wname
{
	my ($name) = @_;
	return join('', map { chr(length $_) . $_ } split /\./, $name) . "\0";
}

sub wq
{
	my ($name, $type) = @_;
	return wname($name) . pack('nn', $type // 1, 1);
}

subtest 'bad and unsupported messages' => sub {
	after_junk(make_query('www.example.test', 'A', qr => 1, id => 0x4242)->data,
		   'QR=1: dropped', drop => 1);
	after_junk(make_query('www.example.test', 'A', qr => 1, id => 0x4243, edns => 1232)->data,
		   'QR=1 with EDNS: dropped', drop => 1);
	for my $op ([ 'IQUERY', 1 ], [ 'STATUS', 2 ], [ 'opcode 3', 3 ], [ 'NOTIFY', 4 ],
		    [ 'UPDATE', 5 ], [ 'opcode 15', 15 ]) {
		my ($name, $code) = @$op;
		after_junk(hdr(id => 0x4300 + $code, flags => $code << 11) . wq('example.test', 6),
			   "$name: NOTIMP", rcode => 'NOTIMP');
	}
	after_junk(hdr(qd => 0), 'QDCOUNT 0: FORMERR', rcode => 'FORMERR');
	after_junk(hdr(qd => 2) . wq('www.example.test') . wq('mail.example.test'),
		   'QDCOUNT 2: FORMERR', rcode => 'FORMERR');
	after_junk(hdr(qd => 0, ar => 1) . "\0" . pack('nnNn', 41, 1232, 0, 0),
		   'QDCOUNT 0 with only an OPT: FORMERR', rcode => 'FORMERR');
	after_junk("\x42\x42\x00", 'three bytes: dropped', drop => 1);
	after_junk('', 'an empty datagram: dropped', drop => 1);
	my @formerr_or_drop = (
		[ 'a header only', hdr() ],
		[ 'question cut in the name', hdr() . "\x03www\x07exam" ],
		[ 'question without type and class', hdr() . wname('www.example.test') ],
		[ 'question without class', hdr() . wname('www.example.test') . "\0\1" ],
		[ 'label running past the end', hdr() . "\x3fwww" ],
		[ 'compression pointer in the question (to itself)', hdr() . "\xc0\x0c\0\1\0\1" ],
		[ 'compression pointer beyond the packet', hdr() . "\xc0\xff\0\1\0\1" ],
		[ 'extended label type 0x40', hdr() . "\x41\x00\0\0\1\0\1" ],
		[ 'reserved label type 0x80', hdr() . "\x81a\0\0\1\0\1" ],
		[ 'name longer than 255 bytes', hdr() . join('', map { "\x3f" . ('a' x 63) } 1 .. 5)
		  . "\0\0\1\0\1" ],
		[ 'ARCOUNT 1 with nothing there', hdr(ar => 1) . wq('www.example.test') ],
		[ 'OPT with a bad RDLENGTH', hdr(ar => 1) . wq('www.example.test') . "\0"
		  . pack('nnNn', 41, 1232, 0, 10) . "\0\1" ],
		[ 'OPT with a truncated option', hdr(ar => 1) . wq('www.example.test') . "\0"
		  . pack('nnNn', 41, 1232, 0, 6) . pack('nn', 10, 8) . "ab" ],
		[ '512 zero bytes', "\0" x 512 ],
	);
	for my $c (@formerr_or_drop) {
		after_junk($c->[1], "$c->[0]: FORMERR or dropped");
	}

	# Zone transfers are not served: an error, never the zone.
	for my $type ([ 'AXFR', 252 ], [ 'IXFR', 251 ]) {
		my @r = tcp_exchange($t->host, $t->port, [ hdr(id => 7) . wq('example.test', $type->[1]) ]);
		my $p = @r ? Net::DNS::Packet->new(\$r[0]) : undef;
		ok(!$p || grep({ $p->header->rcode eq $_ } qw(REFUSED NOTIMP)),
		   "$type->[0] over TCP: REFUSED or NOTIMP (or closed)") or diag($p->string);
	}

	# Pseudo-random datagrams: any reply is a response to the same ID; the daemon survives.
	srand(20261127);
	my $bad = 0;
	for my $i (1 .. 300) {
		my $len = int(rand(600));
		my $wire = join('', map { chr(int(rand(256))) } 1 .. $len);
		substr($wire, 2, 1, chr(ord(substr($wire, 2, 1)) & 0x7f)) if $len >= 3; # QR=0
		my $sock = udp_socket($t->host, $t->port);
		$sock->send($wire);
		my $d = recv_udp($sock, $i % 50 ? 0.05 : 1);
		next unless defined $d;
		$bad++ unless length($d) >= 12 && substr($d, 0, 2) eq substr($wire, 0, 2)
			&& (ord(substr($d, 2, 1)) & 0x80);
	}
	is($bad, 0, '300 random datagrams: every reply has QR set and the query\'s ID');
	reply_is(ask('www.example.test', 'A'), { rcode => 'NOERROR', answer => [ z('www.example.test', 'A') ] },
		 'the daemon still answers after the random datagrams');
	ok($t->running, 'the daemon is still running');
};

# ---------------------------------------------------------------------------------------------
subtest 'TCP: pipelining, framing, bad messages' => sub {
	my @names = map { [ $_->[0], $_->[1] ] } ([ 'www.example.test', 'A' ], [ 'nope.example.test', 'A' ],
		[ 'big.example.test', 'TXT' ], [ 'chain1.example.test', 'AAAA' ], [ 'sub.example.test', 'A' ],
		[ 'www.app.example', 'A' ], [ 'www.example.com', 'A' ], [ 'foo.wild.example.test', 'TXT' ]);
	my (@wire, %want);
	my $id = 1000;
	for my $round (1 .. 4) {
		for my $n (@names) {
			my $q = make_query(@$n, id => ++$id);
			push @wire, $q->data;
			$want{$id} = $n;
		}
	}
	my @replies = tcp_exchange($t->host, $t->port, \@wire);
	is(scalar(@replies), scalar(@wire), scalar(@wire) . ' pipelined queries on one connection: all answered');
	my %seen;
	for my $raw (@replies) {
		my $p = Net::DNS::Packet->new(\$raw);
		next unless $p && $want{ $p->header->id };
		my ($q) = $p->question;
		$seen{ $p->header->id }++ if lc($q->qname) eq lc($want{ $p->header->id }[0]);
	}
	is(scalar(keys %seen), scalar(@wire), 'each reply matches its query by ID and question');

	# Two queries in one write where the second's length prefix is split over two writes.
	my $q1 = make_query('www.example.test', 'A', id => 1)->data;
	my $q2 = make_query('mail.example.test', 'A', id => 2)->data;
	my $sock = IO::Socket::IP->new(PeerHost => $t->host, PeerPort => $t->port, Proto => 'tcp');
	ok($sock, 'TCP connect') or return;
	syswrite($sock, pack('n', length $q1) . $q1 . substr(pack('n', length $q2), 0, 1));
	syswrite($sock, substr(pack('n', length $q2), 1) . $q2);
	my @got;
	my $deadline = Time::HiRes::time() + 10 * timeout_scale();
	for (1 .. 2) {
		my $l = CutoverTest::read_exact($sock, 2, $deadline) // last;
		push @got, CutoverTest::read_exact($sock, unpack('n', $l), $deadline) // last;
	}
	close $sock;
	is(scalar(@got), 2, 'a length prefix split across writes is reassembled');

	@replies = tcp_exchange($t->host, $t->port,
				[ hdr(qd => 2) . wq('www.example.test') . wq('mail.example.test') ]);
	my $p = @replies ? Net::DNS::Packet->new(\$replies[0]) : undef;
	ok(!@replies || ($p && $p->header->rcode eq 'FORMERR'), 'QDCOUNT 2 over TCP: FORMERR or closed');

	# Truncated framing, garbage and empty connections: the daemon carries on.
	tcp_exchange($t->host, $t->port, [ pack('n', 300) . 'short' ], raw => 1, expect => 1,
		     timeout => 0.2);
	tcp_exchange($t->host, $t->port, [ pack('n', 0) ], raw => 1, expect => 1, timeout => 0.2);
	tcp_exchange($t->host, $t->port, [], expect => 0) for 1 .. 20;
	@replies = tcp_exchange($t->host, $t->port, [ make_query('www.example.test', 'A')->data ]);
	is(scalar(@replies), 1, 'TCP still answered after bad connections');
	ok($t->running, 'the daemon is still running');
};

# ---------------------------------------------------------------------------------------------
subtest 'a re-import is answered by the very next query' => sub {
	my $file = $t->dir . '/app.example.zone';
	my $text = CutoverTest::slurp(zone_path('app.example'));
	(my $changed = $text) =~ s/^www\t\tIN\tA\t192\.0\.2\.210$/www\t\tIN\tA\t192.0.2.222/m
		or die 'zones/app.example.zone: www A line not found';
	open(my $fh, '>', $file) or die $!;
	print $fh $changed;
	close $fh;

	my ($soa) = grep { $_->type eq 'SOA' } (ask('app.example', 'SOA') // return fail('no SOA'))->answer;
	my $serial0 = $soa->serial;

	my $r = $t->ctl('zone', 'import', $file);
	is($r->{exit}, 0, 'import the changed zone while the daemon runs') or diag($r->{err});
	# Fresh sockets: the queries may land on different worker threads.
	for my $i (1 .. 8) {
		my $p = ask('www.app.example', 'A', tcp => $i % 2);
		my @a = $p ? map { $_->address } grep { $_->type eq 'A' } $p->answer : ();
		is("@a", '192.0.2.222', "query $i after the import sees the new address") or last;
	}
	($soa) = grep { $_->type eq 'SOA' } (ask('app.example', 'SOA') // return fail('no SOA'))->answer;
	cmp_ok($soa->serial, '>', $serial0, 'the change bumped the SOA serial (same serial in the file)');
	my $serial1 = $soa->serial;

	$r = $t->ctl('zone', 'import', zone_path('app.example'));
	is($r->{exit}, 0, 'import the original back');
	my $p = ask('www.app.example', 'A');
	is(join(' ', map { $_->address } grep { $_->type eq 'A' } $p ? $p->answer : ()), '192.0.2.210',
	   'the next query sees the original address');
	($soa) = grep { $_->type eq 'SOA' } (ask('app.example', 'SOA') // return fail('no SOA'))->answer;
	cmp_ok($soa->serial, '>', $serial1, 'the serial only goes up');
	ok($t->running, 'the daemon is still running');
};

# ---------------------------------------------------------------------------------------------
# Each query reads one snapshot: while imports flip a CNAME between two targets (each version
# removes the other's target), a reply is always one whole version, never the CNAME of one and
# the lookup of the other (that would be CNAME + NXDOMAIN).
subtest 'answers stay consistent while imports commit' => sub {
	my $base = CutoverTest::slurp(zone_path('app.example'));
	my %ver = (a => [ 'flip-a', '192.0.2.231' ], b => [ 'flip-b', '198.51.100.231' ]);
	my %file;
	for my $v (sort keys %ver) {
		my ($target, $addr) = @{ $ver{$v} };
		$file{$v} = $t->dir . "/flip-$v.zone";
		open(my $fh, '>', $file{$v}) or die $!;
		print $fh $base, "flip\tIN\tCNAME\t$target\n$target\tIN\tA\t$addr\n";
		close $fh or die $!;
	}
	my $r = $t->ctl('zone', 'import', $file{a});
	is($r->{exit}, 0, 'import version a') or return diag($r->{err});
	my $ctl = CutoverTest::cutoverctl_bin();
	my $db = $t->db;
	my $writer = CutoverTest::spawn(
		cmd => [ 'sh', '-c', "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do "
			 . "'$ctl' --db '$db' zone import '$file{b}' && '$ctl' --db '$db' zone import '$file{a}' "
			 . '|| exit 1; done' ],
		stdout => $t->dir . '/flip.out', stderr => $t->dir . '/flip.err');
	my (%seen, @bad);
	my $n = 0;
	while (1) {
		my $done = CutoverTest::reap($writer, 0);
		my $p = ask('flip.app.example', 'A', tcp => $n % 2);
		$n++;
		my $got = $p ? join(' ', $p->header->rcode, map { lc($_->owner) . '=' . $_->rdstring } $p->answer)
			     : 'no reply';
		if ($got eq 'NOERROR flip.app.example=flip-a.app.example. flip-a.app.example=192.0.2.231') {
			$seen{a}++;
		} elsif ($got eq 'NOERROR flip.app.example=flip-b.app.example. flip-b.app.example=198.51.100.231') {
			$seen{b}++;
		} else {
			push @bad, $got;
		}
		if (defined $done) {
			is($done, 0, '30 imports done') or diag(CutoverTest::slurp($t->dir . '/flip.err'));
			last;
		}
	}
	cmp_ok($n, '>=', 1, "$n queries during the imports");
	is(scalar(@bad), 0, 'every reply is one whole version') or diag(join("\n", @bad[ 0 .. ($#bad < 4 ? $#bad : 4) ]));
	note("version a: " . ($seen{a} // 0) . ", version b: " . ($seen{b} // 0));
	my $p = ask('flip.app.example', 'A');
	ok($p && grep({ $_->type eq 'A' && $_->address eq '192.0.2.231' } $p->answer),
	   'the last import (version a) is served');
};

is($t->stop, 0, 'cutoverd exits 0 on SIGTERM') or diag($t->stderr_text);

done_testing();
