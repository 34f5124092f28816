#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# TCP limits of cutoverd: idle and half-sent connections are closed by the idle timeout, and a
# full connection table neither stops UDP nor keeps TCP from working once clients leave.
use strict;
use warnings;

use IO::Select;
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(time);

use CutoverTest qw(zone_path make_query tcp_exchange timeout_scale);

my $t = CutoverTest->new(zones => [ zone_path('app.example') ]);
ok($t->start(threads => 1, args => [ '--tcp-idle-timeout', 1, '--tcp-max-clients', 4 ]),
   'cutoverd with --tcp-idle-timeout 1 --tcp-max-clients 4') or do {
	diag($t->stderr_text);
	done_testing();
	exit;
};

sub connect_tcp
{
	return IO::Socket::IP->new(PeerHost => $t->host, PeerPort => $t->port, Proto => 'tcp');
}

# True once the server has closed $sock (EOF or reset), within a generous upper bound: the
# test never depends on how fast that happens, only that it does.
sub closed_by_server
{
	my ($sock) = @_;
	my $deadline = time() + 60 * timeout_scale();
	my $sel = IO::Select->new($sock);
	while (time() < $deadline) {
		next unless $sel->can_read($deadline - time());
		my $n = sysread($sock, my $buf, 4096);
		return 1 if !defined $n || $n == 0;
	}
	return 0;
}

sub answered_tcp
{
	my @r = tcp_exchange($t->host, $t->port, [ make_query('www.app.example', 'A')->data ],
			     timeout => 30 * timeout_scale());
	return @r == 1;
}

sub answered_udp
{
	my $p = $t->query('www.app.example', 'A');
	return $p && $p->header->rcode eq 'NOERROR';
}

my $idle = connect_tcp();
ok($idle, 'connect and send nothing');
ok(closed_by_server($idle), 'an idle connection is closed by the idle timeout');

my $half = connect_tcp();
syswrite($half, "\x00"); # half of a length prefix
ok(closed_by_server($half), 'a connection that stops mid-message is closed too');

my $used = connect_tcp();
my $q = make_query('www.app.example', 'A')->data;
syswrite($used, pack('n', length $q) . $q);
ok(closed_by_server($used), 'a connection idle after its answer is closed (after the answer)');

# Fill the table (4 per worker, one worker), then some.
my @conns = grep { defined } map { connect_tcp() } 1 .. 12;
cmp_ok(scalar(@conns), '>=', 4, 'opened connections up to and past the limit');
ok(answered_udp(), 'UDP is answered while TCP is full');
close $_ for @conns;
ok(answered_tcp(), 'TCP is answered again once the clients have gone');

# Many connections at once, well past the limit, closed by the clients.
my @many = grep { defined } map { connect_tcp() } 1 .. 300;
note(scalar(@many) . ' connections opened');
close $_ for @many;
ok(answered_tcp(), 'TCP answered after a burst of 300 connections');
ok(answered_udp(), 'UDP answered after a burst of 300 connections');
ok($t->running, 'the daemon is still running');
is($t->stop, 0, 'exits 0 on SIGTERM');

done_testing();
