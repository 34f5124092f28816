#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# cutoverd start-up and shutdown: clear errors for a missing database, a port in use and bad
# addresses; clean exit on SIGTERM and SIGINT; IPv6 and several listen addresses.
use strict;
use warnings;

use HTTP::Tiny;
use IO::Socket::IP;
use POSIX qw(WIFEXITED WEXITSTATUS WIFSIGNALED WTERMSIG);
use Test::More;

use CutoverTest qw(zone_path free_port tcp_exchange make_query query_at);

my $t = CutoverTest->new(zones => [ zone_path('app.example') ]);

sub status_text
{
	my ($st) = @_;
	return 'still running / killed' unless defined $st;
	return 'exit ' . WEXITSTATUS($st) if WIFEXITED($st);
	return 'signal ' . WTERMSIG($st) if WIFSIGNALED($st);
	return "status $st";
}

# Start a daemon that must refuse to start: it exits non-zero and says why on stderr.
sub start_fails
{
	my ($desc, $msg_re, %o) = @_;
	my $s = $o{fixture} // CutoverTest->new;
	my $ready = $s->start(%o, timeout => 60 * CutoverTest::timeout_scale());
	return subtest $desc => sub {
		ok(!$ready, 'never reports ready') or do { $s->stop; return };
		my $st = $s->{exit_status};
		ok(defined $st, 'exits by itself') or return;
		ok(WIFEXITED($st) && WEXITSTATUS($st) != 0, 'with a non-zero exit code')
			or diag(status_text($st));
		my $err = $s->stderr_text;
		like($err, $msg_re, 'stderr says why') or diag("stderr: $err");
	};
}

# ---------------------------------------------------------------------------------------------
{
	my $missing = $t->dir . '/no-such-db';
	start_fails('a missing database directory', qr/\Q$missing\E/, db => $missing);
	ok(!-e $missing, 'the missing database was not created');

	my $empty = $t->dir . '/empty-db';
	mkdir $empty;
	start_fails('an empty directory (no database in it)', qr/\Q$empty\E/, db => $empty);

	# Not an LMDB file: refused with a message, never misread or crashed on.
	my $garbage = $t->dir . '/garbage-db';
	mkdir $garbage;
	open(my $g, '>', "$garbage/data.mdb") or die $!;
	srand(7);
	print $g join('', map { chr(int(rand(256))) } 1 .. 65536);
	close $g;
	start_fails('a data.mdb that is not an LMDB file', qr/\Q$garbage\E/, db => $garbage);

	my $s = CutoverTest->new;
	open(my $fh, '>', $s->dir . '/notadir') or die $!;
	close $fh;
	start_fails('a database path that is a file', qr/notadir/, db => $s->dir . '/notadir');
}

# ---------------------------------------------------------------------------------------------
{
	# Port held by another program (TCP listener and UDP socket, no SO_REUSEPORT).
	my $port = free_port();
	my $tcp = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Proto => 'tcp',
				      Listen => 5) or die "bind tcp: $!";
	my $udp = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Proto => 'udp')
		or die "bind udp: $!";
	start_fails('a port in use (TCP and UDP held)', qr/\Q$port\E|in use/i,
		    fixture => $t, listen => ["127.0.0.1:$port"]);
	close $tcp;
	start_fails('a port in use (UDP held only)', qr/\Q$port\E|in use/i,
		    fixture => $t, listen => ["127.0.0.1:$port"]);
	close $udp;

	$port = free_port();
	$tcp = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Proto => 'tcp',
				   Listen => 5) or die "bind tcp: $!";
	start_fails('a port in use (TCP held only)', qr/\Q$port\E|in use/i,
		    fixture => $t, listen => ["127.0.0.1:$port"]);
	close $tcp;

	# A second cutoverd on the same address must not silently share the port with the first
	# (SO_REUSEPORT would let it: the operator would get two daemons answering at random).
	my $first = CutoverTest->new(zones => [ zone_path('app.example') ], start => 1);
	my $second = CutoverTest->new(zones => [ zone_path('app.example') ]);
	my $p = $first->port;
	start_fails('a port in use by another cutoverd', qr/\Q$p\E|in use/i, fixture => $second,
		    listen => ["127.0.0.1:$p"]);
	ok($first->running, 'the first daemon is unaffected');
	is($first->stop, 0, 'the first daemon exits 0 on SIGTERM');
}

# ---------------------------------------------------------------------------------------------
for my $bad ('127.0.0.1:', '127.0.0.1:99999', '127.0.0.1:-1', '127.0.0.1:port',
	     '999.0.0.1:5300', 'not an address:5300', '[::1', '::1:5300:x', '') {
	start_fails("bad --listen '$bad'", qr/\S/, fixture => $t, listen => [$bad]);
}
start_fails('an unknown option', qr/\S/, fixture => $t, args => ['--no-such-option']);
start_fails('--threads abc', qr/thread/i, fixture => $t, threads => 'abc');
start_fails('--threads -1', qr/thread/i, fixture => $t, threads => '-1');

# ---------------------------------------------------------------------------------------------
sub answers
{
	my ($host, $port, $tcp) = @_;
	my $p = query_at($host, $port, 'www.app.example', 'A', tcp => $tcp);
	return $p && $p->header->rcode eq 'NOERROR' && $p->answer == 1;
}

for my $sig ('TERM', 'INT') {
	my $s = CutoverTest->new(zones => [ zone_path('app.example') ]);
	ok($s->start(threads => 2), "started for SIG$sig") or diag($s->stderr_text);
	ok(answers($s->host, $s->port, 0), 'answers over UDP');
	ok(answers($s->host, $s->port, 1), 'answers over TCP');
	# An idle TCP client must not keep the daemon from stopping.
	my $idle = IO::Socket::IP->new(PeerHost => $s->host, PeerPort => $s->port, Proto => 'tcp');
	ok($idle, 'an idle TCP connection is open');
	kill($sig, $s->pid);
	my $st = $s->wait_exit;
	ok(defined $st && WIFEXITED($st) && WEXITSTATUS($st) == 0, "SIG$sig: exits 0")
		or diag(status_text($st) . "\n" . $s->stderr_text);
	unlike($s->stderr_text, qr/\b(?:error|crit|fatal):|AddressSanitizer|LeakSanitizer|runtime error/,
	       "SIG$sig: no error or sanitizer report on stderr");
	my $port = $s->port;
	my $again = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $port, Proto => 'tcp',
					Listen => 1, ReuseAddr => 1);
	ok($again, 'the port is free again after the stop');
}

{
	my $s = CutoverTest->new(zones => [ zone_path('app.example') ]);
	my @ports = (free_port(), free_port());
	ok($s->start(listen => [ map { "127.0.0.1:$_" } @ports ], threads => 1),
	   'two --listen addresses, one thread') or diag($s->stderr_text);
	for my $port (@ports) {
		ok(answers('127.0.0.1', $port, 0), "port $port answers over UDP");
		ok(answers('127.0.0.1', $port, 1), "port $port answers over TCP");
	}
	is($s->stop, 0, 'exits 0 on SIGTERM');
}

{
	my $s = CutoverTest->new(zones => [ zone_path('app.example') ]);
	my $r = $s->ctl(qw(zone delete app.example));
	is($r->{exit}, 0, 'a database whose only zone was deleted') or diag($r->{err});
	ok($s->start, 'starts on a database without zones') or diag($s->stderr_text);
	my $p = $s->query('www.app.example', 'A');
	is($p && $p->header->rcode, 'REFUSED', 'and refuses every query');
	is($s->stop, 0, 'exits 0 on SIGTERM');
}

SKIP: {
	my $v6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Proto => 'udp');
	skip('::1 is not available on this machine', 1) unless $v6;
	close $v6;
	subtest 'IPv6 [::1]:PORT' => sub {
		my $s = CutoverTest->new(zones => [ zone_path('app.example') ]);
		my $p6 = free_port('::1');
		my $p4 = free_port();
		ok($s->start(listen => [ "[::1]:$p6", "127.0.0.1:$p4" ]), 'listens on [::1] and 127.0.0.1')
			or diag($s->stderr_text);
		ok(answers('::1', $p6, 0), 'answers over UDP on ::1');
		ok(answers('::1', $p6, 1), 'answers over TCP on ::1');
		ok(answers('127.0.0.1', $p4, 0), 'and on 127.0.0.1');
		is($s->stop, 0, 'exits 0 on SIGTERM');
	};
}

subtest 'workers: a UDP thread per listen address and a TCP thread, each' => sub {
	my $s = CutoverTest->new(zones => [ zone_path('app.example') ]);
	my @ports = (free_port(), free_port());
	my $http = free_port();
	ok($s->start(threads => 3, listen => [ map { "127.0.0.1:$_" } @ports ],
		     args => [ '--http', "127.0.0.1:$http" ]), 'three workers on two addresses')
		or return diag($s->stderr_text);
	my @tasks = glob('/proc/' . $s->pid . '/task/*');
	is(scalar @tasks, 2 + 3 * 2 + 3, 'main, prober, 3 x 2 UDP threads and 3 TCP threads');
	# each query from a new socket: SO_REUSEPORT spreads the source ports over the threads
	my ($sent, $answered) = (0, 0);
	for my $port (@ports) {
		for my $i (1 .. 150) {
			my $p = query_at('127.0.0.1', $port, 'www.app.example', 'A', tcp => $i % 15 == 0);
			$sent++;
			$answered++ if $p && $p->header->rcode eq 'NOERROR' && $p->header->ancount;
		}
	}
	is($answered, $sent, "all $sent queries answered, UDP and TCP, on both addresses");
	my $m = HTTP::Tiny->new->get("http://127.0.0.1:$http/metrics")->{content} // '';
	like($m, qr/^cutover_queries_total $sent$/m, 'the metrics sum every thread\'s counters');
	like($m, qr/^cutover_worker_threads 3$/m, 'and count workers as --threads');
	is($s->stop, 0, 'the threads waiting in recvmmsg stop on SIGTERM: exit 0');
	like($s->stderr_text, qr/info: stopped/, 'and it says so');
};

done_testing();
