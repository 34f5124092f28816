#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Response rate limiting end to end: a bounded flood from one loopback source is held to the
# rate (plus the burst) across two workers, every second limited reply slips with TC=1, another
# /24 is answered in full meanwhile, TCP is never limited, the metrics and the log say so; with
# slip 1 every limited query still gets a TC reply, with slip 0 none; off, nothing is limited.
# Bounds come from the flood's own measured length and are generous: no timing is asserted.
use strict;
use warnings;

use HTTP::Tiny;
use IO::Select;
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverTest qw(zone_path make_query tcp_exchange timeout_scale free_port write_file run_cmd);

my $scale = timeout_scale();
my $NAME = 'www.app.example';
my $QUERY = make_query($NAME, 'A', id => 0)->data;

# A UDP socket from $local (any port) to the daemon (at $host, default its own).
sub client
{
	my ($t, $local, $host) = @_;
	return IO::Socket::IP->new(LocalHost => $local, LocalPort => 0,
				   PeerHost => $host // $t->host, PeerPort => $t->port, Proto => 'udp')
		|| die "udp socket from $local: $!";
}

# What came back: { full, tc, other } by reply, and the IDs seen.
sub tally_new { return { full => 0, tc => 0, other => 0, ids => {} } }

sub take_reply
{
	my ($tally, $buf) = @_;
	return if length($buf) < 12;
	my ($id, $flags, $qd, $an, $ns, $ar) = unpack('n6', $buf);
	$tally->{ids}{$id}++;
	if ($flags & 0x0200) {
		# a slip: TC, nothing but the question (and no OPT: the query had none)
		if ($an == 0 && $ns == 0 && $ar == 0 && $qd == 1 && ($flags & 0xF) == 0 &&
		    substr($buf, 12) eq substr($QUERY, 12)) {
			$tally->{tc}++;
		} else {
			$tally->{other}++;
		}
	} elsif (($flags & 0xF) == 0 && $an >= 1) {
		$tally->{full}++;
	} else {
		$tally->{other}++;
	}
	return;
}

# Wait up to $wait seconds for replies, then read all that are there; how many.
sub drain
{
	my ($socks, $wait) = @_; # { name => { sock, tally } }
	my $sel = IO::Select->new(map { $_->{sock} } values %$socks);
	my %by = map { (fileno($_->{sock}) => $_) } values %$socks;
	my $n = 0;
	for (my @r = $sel->can_read($wait); @r; @r = $sel->can_read(0)) {
		for my $s (@r) {
			while (defined $s->recv(my $buf, 4096, Socket::MSG_DONTWAIT())) {
				last unless length $buf;
				take_reply($by{ fileno($s) }{tally}, $buf);
				$n++;
			}
		}
	}
	return $n;
}

# Read until nothing has come for $quiet seconds.
sub drain_all
{
	my ($socks, $quiet) = @_;
	while (drain($socks, $quiet) > 0) { }
	return;
}

sub query_bytes
{
	my ($id) = @_;
	return pack('n', $id) . substr($QUERY, 2);
}

# ---------------------------------------------------------------------------------------------
# RRL on with one config line (the rest as flags), two workers sharing the table.
my $t = CutoverTest->new(zones => [ zone_path('app.example') ]);
my $conf = write_file($t->dir . '/rrl.conf', "rrl-responses-per-second 20\n");
my $http_port = free_port('127.0.0.1');
ok($t->start(threads => 2, args => [ '-c', $conf, '--http', "127.0.0.1:$http_port" ]),
   'cutoverd with rrl-responses-per-second 20 (slip 2 by default), two workers') or do {
	diag($t->stderr_text);
	done_testing();
	exit;
};
like($t->stderr_text, qr/rrl on responses-per-second=20 slip=2 ipv4-prefix=24 ipv6-prefix=56/,
     'the start-up log says RRL is on, with its settings');

# The flood: 2000 queries from 127.0.0.1 over eight source ports (so both workers get some),
# 25 every 25 ms; every 100th time a query from 127.0.1.1, another /24.
my $RATE = 20;
my $SENT = 2000;
my %flood = map { ("f$_" => { sock => client($t, "127.0.0.1"), tally => tally_new() }) } 1 .. 8;
my %other = (o => { sock => client($t, '127.0.1.1'), tally => tally_new() });
my %all = (%flood, %other);
my @fs = map { $flood{"f$_"}{sock} } 1 .. 8;
my $probes = 0;
my $t0 = time();
for my $i (0 .. $SENT - 1) {
	$fs[$i % 8]->send(query_bytes($i)) or die "send: $!";
	if ($i % 100 == 50) {
		$other{o}{sock}->send(query_bytes(60000 + $probes++)) or die "send: $!";
	}
	if ($i % 25 == 24) {
		drain(\%all, 0);
		sleep(0.025);
	}
}
drain_all(\%all, $scale);
my $elapsed = time() - $t0;

my %sum = (full => 0, tc => 0, other => 0);
for my $f (values %flood) {
	$sum{$_} += $f->{tally}{$_} for qw(full tc other);
}
my $bound = $RATE + $RATE * $elapsed + 5;
diag(sprintf('flood: %d queries in %.2f s: %d answered, %d slipped (TC), %d dropped',
	     $SENT, $elapsed, $sum{full}, $sum{tc}, $SENT - $sum{full} - $sum{tc}));
ok($sum{full} >= $RATE / 2, "the flood's first queries are answered (burst): $sum{full}");
ok($sum{full} <= $bound,
   sprintf('answered %d <= rate x elapsed + burst = %.0f: the limit holds across both workers',
	   $sum{full}, $bound));
my $limited = $SENT - $sum{full};
ok($sum{tc} >= 0.3 * $limited && $sum{tc} <= 0.5 * $limited + 1,
   "slip 2: about every second limited query gets a TC reply ($sum{tc} of $limited)");
is($sum{other}, 0, 'every reply is a full answer or a slip with the question only');

my $o = $other{o}{tally};
is($o->{full}, $probes, "another /24 (127.0.1.1) meanwhile: all $probes queries answered in full");
is($o->{tc}, 0, '... none truncated');

# The flooding /24 is still limited from another address in it, and still over UDP only.
my %same = (s => { sock => client($t, '127.0.0.2'), tally => tally_new() });
$same{s}{sock}->send(query_bytes(50000 + $_)) for 0 .. 99;
drain_all(\%same, $scale);
my $s = $same{s}{tally};
ok($s->{full} < 100 && $s->{tc} > 0,
   "127.0.0.2 shares the /24's bucket: 100 queries, $s->{full} answered, $s->{tc} slipped");

my @tcp = tcp_exchange($t->host, $t->port, [ map { query_bytes(40000 + $_) } 0 .. 49 ],
		       timeout => 30 * $scale);
my $tcp_full = grep { my ($f, $an) = (unpack('n6', $_))[1, 3]; !($f & 0x0200) && $an >= 1 } @tcp;
is($tcp_full, 50, 'TCP from the limited /24: 50 pipelined queries, 50 full answers');

my $m = HTTP::Tiny->new(timeout => 30 * $scale)->get("http://127.0.0.1:$http_port/metrics");
my %metric = map { /^(cutover_rrl_\S+) (\d+)$/ ? ($1 => $2) : () } split /\n/, $m->{content} // '';
my $seen_tc = $sum{tc} + $s->{tc};
ok(($metric{'cutover_rrl_slipped_total'} // -1) >= $seen_tc,
   "cutover_rrl_slipped_total counts the slips ($seen_tc seen)")
	or diag($m->{content});
ok(($metric{'cutover_rrl_limited_total{class="positive"}'} // -1) >=
       $SENT - $sum{full} + 100 - $s->{full} - 10,
   'cutover_rrl_limited_total{class="positive"} counts the limited answers');
ok(defined $metric{'cutover_rrl_limited_total{class="nxdomain"}'} &&
       defined $metric{'cutover_rrl_evictions_total'},
   'every class and the evictions are exposed');
like($t->stderr_text, qr/rrl limiting client=127\.0\.0\.0\/24 class=positive name=www\.app\.example\./i,
     'the log names the limited prefix, class and name');
unlike($t->stderr_text, qr/rrl limiting client=127\.0\.1\./, '... and not the other /24');
my $lines = () = $t->stderr_text =~ /rrl limiting client=127\.0\.0\.0\/24/g;
ok($lines >= 1 && $lines <= 4,
   "one line per limiting episode (the flood, then 127.0.0.2's burst), not one a second: $lines");
ok($t->stop == 0, 'cutoverd stops cleanly');

# ---------------------------------------------------------------------------------------------
# slip 1 and slip 0, at 5 a second, one worker: 300 queries each.

# Send $n queries from one socket (from $local to $host, default 127.0.0.1) at 25 every 25 ms;
# the tally and the seconds it took.
sub flood_one
{
	my ($d, $n, $local, $host) = @_;
	my %c = (c => { sock => client($d, $local // '127.0.0.1', $host), tally => tally_new() });
	my $start = time();
	for my $i (0 .. $n - 1) {
		$c{c}{sock}->send(query_bytes($i)) or die "send: $!";
		if ($i % 25 == 24) {
			drain(\%c, 0);
			sleep(0.025);
		}
	}
	drain_all(\%c, $scale);
	return ($c{c}{tally}, time() - $start);
}

for my $slip (1, 0) {
	my $d = CutoverTest->new(zones => [ zone_path('app.example') ]);
	ok($d->start(threads => 1, args => [ '--rrl-responses-per-second', 5, '--rrl-slip', $slip ]),
	   "cutoverd --rrl-responses-per-second 5 --rrl-slip $slip") or next;
	my ($c, $secs) = flood_one($d, 300);
	ok($c->{full} >= 3 && $c->{full} <= 5 + 5 * $secs + 3,
	   sprintf('slip %d: %d of 300 answered in %.2f s (rate 5)', $slip, $c->{full}, $secs));
	if ($slip == 1) {
		ok($c->{full} + $c->{tc} >= 290,
		   "slip 1: every limited query gets a TC reply ($c->{tc} slipped)");
	} else {
		is($c->{tc}, 0, 'slip 0: limited queries are dropped, none slips');
	}
	is($c->{other}, 0, '... nothing else came back');
	$d->stop;
}

# IPv6: the client's /56 (::1's here) is limited the same way, when the machine has ::1.
SKIP: {
	skip 'no IPv6 loopback', 3
		unless IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Proto => 'udp');
	my $d = CutoverTest->new(zones => [ zone_path('app.example') ]);
	my $port = free_port('::1');
	ok($d->start(threads => 1, listen => [ "[::1]:$port" ], args => [ '--rrl-responses-per-second', 5,
		     '--rrl-slip', 1 ]), 'cutoverd on [::1] with rate 5, slip 1') or last;
	$d->{port} = $port;
	my ($c, $secs) = flood_one($d, 200, '::1', '::1');
	ok($c->{full} >= 3 && $c->{full} <= 5 + 5 * $secs + 3 && $c->{full} + $c->{tc} >= 190,
	   sprintf('IPv6: %d of 200 answered in %.2f s, %d slipped', $c->{full}, $secs, $c->{tc}));
	like($d->stderr_text, qr/rrl limiting client=::\/56 class=positive/,
	     'the log names the /56');
	$d->stop;
}

# ---------------------------------------------------------------------------------------------
# Off (the default): a flood from one source is answered in full. Sent with at most 20 queries
# in flight, so that no socket buffer can overflow on a busy machine.
{
	my $d = CutoverTest->new(zones => [ zone_path('app.example') ]);
	ok($d->start(threads => 1), 'cutoverd without RRL settings') or last;
	my %c = (c => { sock => client($d, '127.0.0.1'), tally => tally_new() });
	my $tl = $c{c}{tally};
	my ($sent, $n) = (0, 1000);
	while ($sent < $n) {
		my $got = $tl->{full} + $tl->{tc} + $tl->{other};
		if ($sent - $got < 20) {
			$c{c}{sock}->send(query_bytes($sent++)) or die "send: $!";
			next;
		}
		last unless drain(\%c, 10 * $scale); # a reply lost: the count below says so
	}
	drain_all(\%c, $scale);
	is($tl->{full}, $n, "RRL off: $n queries from one source, $n full answers");
	is($tl->{tc}, 0, '... none truncated');
	$d->stop;
}

# ---------------------------------------------------------------------------------------------
# Settings: bad values are refused with the setting named, in a file with its line.
my $r = run_cmd([ CutoverTest::cutoverd_bin(), '--rrl-slip', 11, '--check-config' ]);
is($r->{exit}, 2, '--rrl-slip 11 is refused');
like($r->{err}, qr/--rrl-slip '11': expected a number from 0 to 10/, '... saying the range');
my $bad = write_file($t->dir . '/bad.conf', "rrl-responses-per-second 10\nrrl-ipv4-prefix 33\n");
$r = run_cmd([ CutoverTest::cutoverd_bin(), '-c', $bad, '--check-config' ]);
is($r->{exit}, 2, 'rrl-ipv4-prefix 33 in a file is refused');
like($r->{err}, qr/\Q$bad\E:2: rrl-ipv4-prefix '33': expected a number from 8 to 32/,
     '... with FILE:LINE');
$r = run_cmd([ CutoverTest::cutoverd_bin(), '-c', $conf, '--rrl-slip', 3, '--rrl-ipv6-prefix', 48,
	       '--rrl-table-size', 4096, '--check-config' ]);
like($r->{out}, qr/^rrl-responses-per-second 20\nrrl-slip 3\nrrl-ipv4-prefix 24\nrrl-ipv6-prefix 48\nrrl-table-size 4096$/m,
     '--check-config prints the effective RRL settings');

done_testing();
