# SPDX-License-Identifier: MIT
# Bench allocations: heap calls per query of a server run under the mallocount.so interposer,
# split between the threads that answered the queries and the others.
package BenchAlloc;

use strict;
use warnings;

use Exporter qw(import);
use Time::HiRes qw(sleep);

use BenchPerf qw(dnsperf);
use BenchServers;
use CutoverTest qw(slurp);

our @EXPORT_OK = qw(alloc_env alloc_runs);

# The environment that makes a server count (each of its processes writes FILE.PID).
sub alloc_env
{
	my ($ctx, $name) = @_;
	return { LD_PRELOAD => $ctx->{mallocount}, MALLOCOUNT_FILE => "$ctx->{tmp}/mc-$name" };
}

# Heap calls so far per thread of the server: { TID => { alloc, free } }.
sub counts
{
	my ($server, $prefix) = @_;
	my %c;
	for my $pid (BenchServers::tree($server->pid)) {
		for (split /\n/, slurp("$prefix.$pid")) {
			my %v = /(\w+)=(\d+)/g;
			$c{ $v{tid} } = { alloc => $v{alloc}, free => $v{free} } if defined $v{tid};
		}
	}
	return \%c;
}

# alloc_runs(CTX, SERVER, { workload => FILE }) -> [{ workload, queries, workers, allocs,
# frees, other_allocs }...]: after a warm-up run, one saturating run per workload between two
# readings of the counts and of each thread's CPU time (the interposer rewrites the counts
# every 50 ms: the pauses let the last reading land). The workers are the threads that took at
# least a tenth of the server's CPU time in the run: those that answered the queries. allocs
# and frees are theirs; other_allocs are the other threads' (timers, probers).
sub alloc_runs
{
	my ($ctx, $server, $files) = @_;
	my $prefix = "$ctx->{tmp}/mc-" . $server->name;
	my %run = (port => $server->port, cpu => $ctx->{cpu_client});
	dnsperf(%run, file => $files->{mix} // (values %$files)[0], seconds => 1);
	my @rows;
	for my $w (sort keys %$files) {
		sleep(0.2);
		my ($c0, $t0) = (counts($server, $prefix), $server->thread_cpu);
		my $s = dnsperf(%run, file => $files->{$w}, seconds => $ctx->{alloc_seconds});
		sleep(0.2);
		my ($c1, $t1) = (counts($server, $prefix), $server->thread_cpu);
		my %used = map { $_ => $t1->{$_} - ($t0->{$_} // 0) } keys %$t1;
		my $total = 0;
		$total += $_ for values %used;
		my %row = (workload => $w, queries => $s->{completed}, workers => 0, allocs => 0,
			   frees => 0, other_allocs => 0);
		for my $tid (keys %$c1) {
			my %d = map { $_ => $c1->{$tid}{$_} - ($c0->{$tid}{$_} // 0) } qw(alloc free);
			if ($total > 0 && ($used{$tid} // 0) >= 0.1 * $total) {
				$row{workers}++;
				$row{allocs} += $d{alloc};
				$row{frees} += $d{free};
			} else {
				$row{other_allocs} += $d{alloc};
			}
		}
		# a worker that never allocated has no slot: count it from the CPU times
		my $busy = grep { $total > 0 && $used{$_} >= 0.1 * $total } keys %used;
		$row{workers} = $busy if $busy > $row{workers};
		push @rows, \%row;
	}
	return \@rows;
}

1;
