# SPDX-License-Identifier: MIT
# Bench cutover timing: from `cutoverctl weight` returning to the first answer that shows it, and
# from a backend's death to the first answer without it (health checks), through dnswait.
package BenchCutover;

use strict;
use warnings;

use Exporter qw(import);
use IO::Socket::IP;
use Time::HiRes qw(sleep time);

use BenchData qw($FLIP $HC);
use CutoverTest qw(run_cmd spawn reap stop_pid free_port slurp);

our @EXPORT_OK = qw(dnswait dnswait_start dnswait_finish flip_times health_times check_cli);

sub shq { return "'" . ($_[0] =~ s/'/'\\''/gr) . "'" }

# dnswait(CTX, PORT, QNAME, steps => [[PRED, SHELL]...], samples => N, pause_us => U,
#         timeout_ms => T) -> [{ step, cmd_us, wait_us, queries, end_ns }...]
# Runs on the client CPU (and so does every command it starts).
sub dnswait
{
	return dnswait_finish(dnswait_start(@_));
}

# dnswait_start(the same) -> a handle for dnswait_finish: dnswait runs in the background (to
# be polling already when something is started).
sub dnswait_start
{
	my ($ctx, $port, $qname, %o) = @_;
	my @cmd = ($ctx->{dnswait}, '-p', $port, '-q', $qname, '-n', $o{samples} // 1,
		   '-T', $o{timeout_ms} // 10000, '-w', $o{pause_us} // 0,
		   map { @$_ } @{ $o{steps} });
	unshift @cmd, 'taskset', '-c', $ctx->{cpu_client} if defined $ctx->{cpu_client};
	my $n = ++$ctx->{dnswaits};
	my %h = (out => "$ctx->{tmp}/dnswait.$n.out", err => "$ctx->{tmp}/dnswait.$n.err",
		 budget => ($o{samples} // 1) * (($o{timeout_ms} // 10000) / 1000 + 5));
	$h{pid} = spawn(cmd => \@cmd, stdout => $h{out}, stderr => $h{err});
	return \%h;
}

# dnswait_finish(HANDLE, ALIVE) -> the samples; dies when dnswait fails, or when ALIVE (a sub,
# optional) returns false before dnswait is done (the server it waits for has exited).
sub dnswait_finish
{
	my ($h, $alive) = @_;
	my $deadline = time() + $h->{budget};
	my $st;
	while (!defined($st = reap($h->{pid}, 0.05))) {
		next if time() < $deadline && (!$alive || $alive->());
		stop_pid($h->{pid});
		die "dnswait stopped: " . (time() < $deadline ? 'the server exited' : 'no end') . "\n";
	}
	die "dnswait failed (status $st): " . slurp($h->{err}) if $st != 0;
	my @s;
	for (grep { /^step=/ } split /\n/, slurp($h->{out})) {
		push @s, { map { split /=/, $_, 2 } split ' ' };
	}
	return \@s;
}

# The cutoverctl command line (for a shell) on the bench database.
sub ctl_line
{
	my ($ctx, @args) = @_;
	return join(' ', map { shq($_) } $ctx->{ctl}, '--db', $ctx->{db}, '--actor', 'bench', @args);
}

# flip_times(CTX, PORT) -> the samples: FLIP's pool (one target per group) is moved to green
# and back with `cutoverctl weight`, each time queried at once and in a loop until the answer
# is the new group's address.
sub flip_times
{
	my ($ctx, $port) = @_;
	my @steps = ([ '=198.51.100.20', ctl_line($ctx, 'weight', $FLIP, 'blue=0', 'green=100') ],
		     [ '=192.0.2.20', ctl_line($ctx, 'weight', $FLIP, 'blue=100', 'green=0') ]);
	return dnswait($ctx, $port, $FLIP, steps => \@steps, samples => $ctx->{flips},
		       timeout_ms => 5000);
}

# Does this cutoverctl have health checks (`pool set --check`)?
sub check_cli
{
	my ($ctx) = @_;
	my $r = run_cmd([ $ctx->{ctl}, 'pool', 'set', '--help' ], timeout => 30);
	return $r->{out} =~ /--check\b/ && $r->{out} =~ /--fall\b/;
}

# A TCP backend on ADDR:PORT that accepts and closes every connection; returns its pid once
# it accepts.
sub backend
{
	my ($addr, $port) = @_;
	my $pid = spawn(cmd => [ $^X, '-MIO::Socket::IP', '-e',
		'my $s = IO::Socket::IP->new(LocalHost => $ARGV[0], LocalPort => $ARGV[1], '
		. 'Proto => "tcp", Listen => 64, ReuseAddr => 1) or die "listen: $!\n"; '
		. 'while (1) { my $c = $s->accept or next; close $c }', $addr, $port ]);
	my $deadline = time() + 10;
	while (time() < $deadline) {
		die "backend $addr:$port exited\n" if defined reap($pid, 0);
		return $pid if IO::Socket::IP->new(PeerHost => $addr, PeerPort => $port,
						   Proto => 'tcp');
		sleep(0.01);
	}
	die "backend $addr:$port does not accept\n";
}

# health_times(CTX, PORT) -> { down => [...], up => [...] } in microseconds: HC's pool has
# two targets with TCP backends, checked every 200 ms, down after 3 failures. Each round kills
# the first backend (SIGKILL: its port refuses at once) and times the first answer without
# it; then starts it again and times the first answer with it (rise: cutoverd's default).
sub health_times
{
	my ($ctx, $port) = @_;
	my $bport = free_port('127.0.0.1');
	my ($a1, $a2) = ('127.0.0.31', '127.0.0.32');
	my $b1 = backend($a1, $bport);
	my $b2 = backend($a2, $bport);
	my $r = run_cmd([ $ctx->{ctl}, '--db', $ctx->{db}, '--actor', 'bench', 'pool', 'set', $HC,
			  '--group', "blue=$a1,$a2", '--check', "tcp:$bport", '--interval',
			  '200ms', '--fall', 3 ], timeout => 60);
	die "cutoverctl pool set --check failed: $r->{err}" if $r->{exit} != 0;
	dnswait($ctx, $port, $HC, steps => [ [ "=$a1", '' ] ], pause_us => 1000);
	my %t = (down => [], up => []);
	for (1 .. $ctx->{kills}) {
		# some passing checks first; the kill lands at a random point of the interval
		sleep(0.3);
		my $s = dnswait($ctx, $port, $HC, steps => [ [ "!$a1", "kill -KILL $b1" ] ],
				pause_us => 1000);
		push @{ $t{down} }, $s->[0]{wait_us};
		reap($b1, 5);
		$b1 = backend($a1, $bport);
		$s = dnswait($ctx, $port, $HC, steps => [ [ "=$a1", '' ] ], pause_us => 1000);
		push @{ $t{up} }, $s->[0]{wait_us};
	}
	stop_pid($_) for $b1, $b2;
	# no checks left running: they would count in the later measurements
	$r = run_cmd([ $ctx->{ctl}, '--db', $ctx->{db}, 'pool', 'delete', $HC ], timeout => 60);
	die "cutoverctl pool delete failed: $r->{err}" if $r->{exit} != 0;
	return \%t;
}

1;
