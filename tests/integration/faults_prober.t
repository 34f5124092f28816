#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Hostile health-check backends: twenty that accept connections and never answer, and HTTP
# backends that answer with an endless body (a gigabyte, streamed until the prober hangs up).
# The prober times the silent ones out, reads a bounded amount from the endless ones (the
# backend counts what it managed to send), and meanwhile keeps checking the other targets on
# time: a healthy target in another pool stays up, a target killed meanwhile goes down within
# its fall window. Every wait is a bounded poll; detection times are printed, and only bounded
# generously (the machine is noisy).
use strict;
use warnings;

use Errno qw(EAGAIN EINTR);
use IO::Select;
use JSON::PP ();
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverTest qw(zone_path timeout_scale stop_pid fork_sub free_port listen_tcp backend
		   backend_log slurp);

my $SCALE = timeout_scale();
my $IV = 300 * $SCALE; # check interval, ms
my $TO = 250 * $SCALE; # check timeout, ms
my @TIMING = ('--interval', "${IV}ms", '--timeout', "${TO}ms", '--rise', 2, '--fall', 2);
my $WAIT = 30 * $SCALE;
my $CAP = 16 << 20; # the most a backend may get to send on one check connection

my $t = CutoverTest->new(zones => [ zone_path('app.example') ], start => 1, threads => 2);
my $dir = $t->dir;
my $JSON = JSON::PP->new;

sub wait_for
{
	my ($cond, $limit) = @_;
	my $start = time();
	while (1) {
		return time() - $start if $cond->();
		return undef if time() - $start >= ($limit // $WAIT);
		sleep(0.05);
	}
}

# { "NAME ADDR" => { state, error, ... } } for every A pool, from `status --json`.
sub health
{
	my $r = $t->ctl('status', '--json');
	my $doc = eval { $JSON->decode($r->{out}) } or return {};
	my %h;
	for my $pool (@{ $doc->{pools} }) {
		(my $name = $pool->{name}) =~ s/\.app\.example\.$//;
		$h{"$name $_->{address}"} = $_ for map { @{ $_->{health} } } @{ $pool->{groups} };
	}
	return \%h;
}

# "ADDR state (error)" for every target of a pool, for diagnostics.
sub states_of
{
	my ($h, $pool) = @_;
	return join("\n", map { "$_ $h->{$_}{state} (" . ($h->{$_}{error} // '') . ')' }
		    sort grep { /^$pool / } keys %$h);
}

sub state_is
{
	my ($h, $key, $state) = @_;
	return ($h->{$key}{state} // '') eq $state;
}

# Addresses 127.0.77.1.. and one port free on all of them.
my @ADDR = map { "127.0.77.$_" } 1 .. 40;
my $port;
for (1 .. 50) {
	$port = free_port();
	last if @ADDR == grep { defined } map { listen_tcp($_, $port) } @ADDR;
}

# A backend that answers every request with HTTP 200 and a body of up to a gigabyte, streamed
# until the peer hangs up; each connection ends with a line "ADDR bytes=N" in its log.
sub endless
{
	my ($log, @addrs) = @_;
	my @l = map { listen_tcp($_, $port) or die "bind $_:$port: $!" } @addrs;
	return fork_sub(sub {
		$SIG{PIPE} = 'IGNORE';
		open(my $out, '>>', $log) or die "$log: $!";
		my $chunk = 'x' x 65536;
		my $head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			. "Content-Length: 1073741824\r\n\r\n";
		my $rsel = IO::Select->new(@l);
		my $wsel = IO::Select->new;
		my %c; # socket => { sent, at }
		while (1) {
			my ($r, $w) = IO::Select->select($rsel, $wsel, undef, 5);
			for my $l (@{ $r // [] }) {
				my $s = $l->accept or next;
				$s->blocking(0);
				$c{$s} = { sock => $s, sent => -length($head), buf => $head,
					   at => $s->sockhost };
				$wsel->add($s);
			}
			for my $s (@{ $w // [] }) {
				my $cn = $c{$s};
				my $buf = $cn->{buf} // $chunk;
				my $n = syswrite($s, $buf);
				if (defined $n) {
					$cn->{sent} += $n;
					$cn->{buf} = $n < length $buf ? substr($buf, $n) : undef;
					next if $cn->{sent} < 1 << 30;
				} elsif ($! == EAGAIN || $! == EINTR) {
					next;
				}
				# the peer hung up (or a whole gigabyte went): log what was sent
				syswrite($out, "$cn->{at} bytes=" . ($cn->{sent} < 0 ? 0 : $cn->{sent})
					 . "\n");
				$wsel->remove($s);
				delete $c{$s};
				close $s;
			}
		}
	});
}

# The byte counts of an endless backend's connections so far.
sub sent
{
	my ($log) = @_;
	return map { /bytes=(\d+)/ ? $1 : () } split /\n/, slurp($log);
}

# ---------------------------------------------------------------------------------------------
my @silent = @ADDR[ 0 .. 19 ];
my @flood = @ADDR[ 20 .. 23 ];
my @needle = @ADDR[ 24 .. 25 ];
my ($steady, $doomed) = @ADDR[ 26, 27 ];

my $silent_pid = backend(listen => [ map { listen_tcp($_, $port) } @silent ],
			 log => "$dir/silent.log", mode => 'silent');
my $flood_pid = endless("$dir/flood.log", @flood, @needle);
my @ok_l = map { listen_tcp($_, $port) } $steady, $doomed;
my $ok_pid = backend(listen => [ $ok_l[0] ], log => "$dir/steady.log", mode => 'http');
my $doomed_pid = backend(listen => [ $ok_l[1] ], log => "$dir/doomed.log", mode => 'http');

# The well-behaved pool first, so that it is being checked before the others arrive.
$t->ctl_ok('a pool of two good targets', 'pool', 'set', 'steady.app.example', '--group',
	   "blue=$steady,$doomed", '--check', "http:$port/", @TIMING);
ok(wait_for(sub { my $h = health(); state_is($h, "steady $steady", 'up')
		  && state_is($h, "steady $doomed", 'up') }), 'both come up');
$t->ctl_ok('a pool of twenty targets that never answer', 'pool', 'set', 'silent.app.example',
	   '--group', 'blue=' . join(',', @silent), '--check', "http:$port/", @TIMING);
$t->ctl_ok('a pool of targets that answer 200 with an endless body', 'pool', 'set',
	   'flood.app.example', '--group', 'blue=' . join(',', @flood), '--check', "http:$port/",
	   @TIMING);
$t->ctl_ok('and one that expects a text that never comes', 'pool', 'set', 'needle.app.example',
	   '--group', 'blue=' . join(',', @needle), '--check', "http:$port/", '--expect-body',
	   'ready', @TIMING);

my $h;
my $took = wait_for(sub {
	$h = health();
	!grep { !state_is($h, "silent $_", 'down') } @silent;
});
ok(defined $took, 'the twenty silent targets go down') or diag(states_of($h, 'silent'));
like($h->{"silent $silent[0]"}{error} // '', qr/timeout after \d+ ms/, 'with a timeout')
	or diag(states_of($h, 'silent'));
ok(wait_for(sub { $h = health(); !grep { !state_is($h, "flood $_", 'up') } @flood }),
   'the endless bodies with status 200 pass (judged on what came first)')
	or diag(states_of($h, 'flood'));
ok(wait_for(sub { $h = health(); !grep { !state_is($h, "needle $_", 'down') } @needle }),
   'the endless bodies without the text go down') or diag(states_of($h, 'needle'));
like($h->{"needle $needle[0]"}{error} // '', qr/body lacks/, 'their error: the body lacks it')
	or diag(states_of($h, 'needle'));

# While all of that goes on: the healthy target keeps passing at its interval, and a target
# whose backend dies is taken out within its fall window.
my $accepts = sub { scalar @{ backend_log("$dir/steady.log") } };
my $a0 = $accepts->();
my $t0 = time();
stop_pid($doomed_pid, grace => 5);
my $killed = time();
$took = wait_for(sub { state_is(health(), "steady $doomed", 'down') });
ok(defined $took, 'a target killed meanwhile goes down');
note(sprintf('down %.2f s after its backend died (interval %d ms, fall 2)', $took // -1, $IV));
ok(defined $took && $took < 10 * $SCALE, 'within its fall window (bounded generously: 10 s)');
sleep(3 * $IV / 1000);
my $checks = $accepts->() - $a0;
my $expected = (time() - $t0) * 1000 / $IV;
note(sprintf('the healthy target: %d checks in %.1f s (%.0f at its interval)', $checks,
	     time() - $t0, $expected));
ok($checks >= $expected / 3, 'the healthy target was checked on time meanwhile');
ok(state_is(health(), "steady $steady", 'up'), 'and is still up');
my @down = map { /target=(\S+) old=up new=down/ ? $1 : () }
	grep { /\bhealth pool=steady\./ } split /\n/, $t->stderr_text;
is_deeply(\@down, [$doomed], 'no other transition to down in its pool was logged');

# What the endless backends managed to send on each check connection.
ok(wait_for(sub { sent("$dir/flood.log") >= 10 }), 'the endless backends saw checks end');
my @bytes = sort { $b <=> $a } sent("$dir/flood.log");
note(sprintf('%d check connections; the most sent on one: %d bytes, the least: %d', scalar @bytes,
	     $bytes[0], $bytes[-1]));
ok($bytes[0] <= $CAP, "no check took more than $CAP bytes from a backend (of a gigabyte)");
ok($bytes[-1] >= 65536, 'each got past the first 64 KiB (the prober read, then hung up)');
my ($rss) = slurp('/proc/' . $t->pid . '/status') =~ /^VmRSS:\s+(\d+)/m;
note("cutoverd VmRSS: $rss kB");

$t->ctl_ok("the hostile pools deleted: $_", 'pool', 'delete', "$_.app.example")
	for qw(silent flood needle);
stop_pid($_, grace => 5) for $silent_pid, $flood_pid, $ok_pid;
is($t->stop, 0, 'cutoverd exits 0 on SIGTERM');
unlike($t->stderr_text, qr/\b(?:crit|fatal):|AddressSanitizer|runtime error/,
       'no crash report on stderr');
done_testing();
