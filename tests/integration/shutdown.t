#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# cutoverd stops on SIGTERM with work in flight, exits 0 and frees what it holds: health checks
# waiting on a backend that never answers (HTTP, HTTPS), a check whose pool was deleted
# while it ran, a half-read TCP query, an idle TCP client and an unfinished HTTP request. A
# leak or a use after free here is found by the sanitizer check of make test-asan and make
# test-valgrind (CutoverTest.pm); make test checks the exit status and the log.
use strict;
use warnings;

use HTTP::Tiny;
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverTest qw(zone_path free_port listen_tcp backend backend_log timeout_scale);

my $SCALE = timeout_scale();
my $APEX = 'app.example';

my $t = CutoverTest->new(zones => [ zone_path($APEX) ]);
my $hport = free_port();
ok($t->start(threads => 2, args => [ '--http', "127.0.0.1:$hport" ]), 'cutoverd starts')
	or BAIL_OUT("cutoverd did not start:\n" . $t->stderr_text);

# Backends on 127.0.3.x that accept and never answer; each logs its accepts.
my @addr = map { "127.0.3.$_" } 1 .. 3;
my $port = free_port('127.0.3.1');
my @socks = map { listen_tcp($_, $port) or die "listen $_:$port: $!" } @addr;
my $log = $t->dir . '/silent.log';
backend(listen => \@socks, log => $log, mode => 'silent');

# Checks that cannot end before cutoverd is stopped: the longest timeout there is.
my @slow = ('--interval', '60m', '--timeout', '60m');
my %check = (
	'http-held' => [ "blue=$addr[0]", "http:$port/health" ],
	'https-held' => [ "blue=$addr[1]", "https:$port/health", '--insecure' ],
	'deleted' => [ "blue=$addr[2]", "http:$port/" ],
);
my $r;
for my $p (sort keys %check) {
	my ($group, $spec, @more) = @{ $check{$p} };
	$r = $t->ctl('pool', 'set', "$p.$APEX", '--group', $group, '--check', $spec, @more,
			@slow);
	is($r->{exit}, 0, "pool $p with a check on a silent backend") or diag($r->{err});
}

# And many checks that end at once, refused, every 100 ms: cutoverd is stopped in the middle of
# them, with some bufferevents freed but their deferred callbacks not yet run.
my $closed = free_port('127.0.4.1');
my $many = join(',', map { "127.0.4.$_" } 1 .. 60);
$r = $t->ctl('pool', 'set', "refused.$APEX", '--group', "blue=$many", '--check', "tcp:$closed",
	     '--interval', '100ms', '--timeout', '100ms');
is($r->{exit}, 0, 'pool refused: 60 targets checked every 100 ms on a closed port')
	or diag($r->{err});

# Wait until the HTTP and HTTPS checks hold their connections.
my %held;
my $deadline = time() + 30 * $SCALE;
while (time() < $deadline) {
	%held = map { (($_->[1] =~ /^([\d.]+):/)[0] => 1) } @{ backend_log($log) };
	last if 3 == grep { $held{$_} } @addr;
	sleep(0.05);
}
ok($held{$_}, "a check is connected to $_ and waiting") for @addr;

# A pool deleted while its check runs: the prober drops the target at once, and frees it when
# the check returns, which it will not before cutoverd stops.
$r = $t->ctl('pool', 'delete', "deleted.$APEX");
is($r->{exit}, 0, 'the pool whose check is running is deleted') or diag($r->{err});
my $http = HTTP::Tiny->new(timeout => 10 * $SCALE);
my $targets;
$deadline = time() + 30 * $SCALE;
while (time() < $deadline) {
	my $m = $http->get("http://127.0.0.1:$hport/metrics")->{content} // '';
	($targets) = $m =~ /^cutover_prober_targets (\d+)$/m;
	last if defined $targets && $targets == 62;
	sleep(0.05);
}
is($targets, 62, 'the prober dropped its target (62 targets left)');

# Clients in the middle of something: half a TCP query, an idle TCP connection, half an HTTP
# request.
my $half = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $t->port, Proto => 'tcp')
	or die "connect: $!";
syswrite($half, pack('n', 40) . "\x12\x34\x01\x00\x00\x01");
my $idle = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $t->port, Proto => 'tcp')
	or die "connect: $!";
my $req = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $hport, Proto => 'tcp')
	or die "connect: $!";
syswrite($req, "GET /metrics HTTP/1.1\r\nHost: x\r\n");
ok($t->query("www.$APEX", 'A'), 'it still answers');

is($t->stop, 0, 'cutoverd exits 0 on SIGTERM with all that in flight') or diag($t->stderr_text);
like($t->stderr_text, qr/\binfo: stopped\b/, 'and logs that it stopped');
unlike($t->stderr_text, qr/\b(?:crit|emerg|alert)\b/, 'nothing critical logged');
close $_ for $half, $idle, $req;

done_testing();
