# SPDX-License-Identifier: MIT
# Bench scale: a zone of many names in cutoverd (import, database size, start to first answer,
# memory) and the same zone loaded by the reference servers.
package BenchScale;

use strict;
use warnings;

use Exporter qw(import);
use Time::HiRes qw(time);

use BenchCutover qw(dnswait_start dnswait_finish);
use BenchData qw(scale_zone scale_queries);
use BenchPerf qw(load_run);
use BenchReport qw(median);
use BenchServers;
use CutoverTest qw(run_cmd free_port);

our @EXPORT_OK = qw(scale_runs);

my $LOAD_LIMIT = 300; # seconds a server may take to load the zone before it is given up

# One server on the scale zone: { first (s from spawn to the first answer for the last name;
# the median of CTX's repeats, each a fresh start), mem_start, mem_run (after a saturating run
# of random names; see BenchServers::memory), run }, or { error }.
sub scale_server
{
	my ($ctx, $name, %o) = @_;
	my (@first, $s);
	for my $rep (1 .. $ctx->{repeats}) {
		$s->stop if $s;
		$s = BenchServers->new($name, %o, port => free_port('127.0.0.1'), threads => 1,
				       cpu => $ctx->{cpu_server}, ready_name => $o{last});
		# dnswait polls before the server starts: only the spawn is in the measured time
		my $h = dnswait_start($ctx, $s->port, $o{last}, steps => [ [ 'any', '' ] ],
				      pause_us => 1000, timeout_ms => $LOAD_LIMIT * 1000);
		Time::HiRes::sleep(0.1);
		my $t0 = $s->start(nowait => 1);
		my $w = eval { dnswait_finish($h, sub { $s->running }) };
		if (!$w) {
			my $why = $@ =~ /exited/ ? 'exited' : "no answer within $LOAD_LIMIT s";
			$s->stop;
			return { error => $why };
		}
		push @first, $w->[0]{end_ns} / 1e9 - $t0;
	}
	my %r = (first => median(@first));
	$s->wait_ready(10); # pins every thread
	$r{mem_start} = $s->memory;
	$r{run} = load_run($s, file => $o{queries}, seconds => $ctx->{seconds},
			   cpu => $ctx->{cpu_client});
	$r{mem_run} = $s->memory;
	$s->stop;
	return \%r;
}

# scale_runs(CTX) -> { names, cutoverd => {..., import (s), db_bytes, db_disk}, nsd => ...,
# knot => ..., gdnsd => ... }
sub scale_runs
{
	my ($ctx) = @_;
	my $n = $ctx->{scale_names};
	my $dir = "$ctx->{tmp}/scale";
	mkdir $dir;
	my $zone = "$dir/big.test.zone";
	my $last = scale_zone($zone, $n);
	my $queries = scale_queries("$dir/q-big.txt", $n, 100000);
	my %res = (names => $n);

	my $db = "$dir/db";
	my $t = time();
	my $r = run_cmd([ $ctx->{ctl}, '--db', $db, 'zone', 'import', $zone ],
			timeout => 1800);
	die "cutoverctl zone import of $n names failed: $r->{err}" if $r->{exit} != 0;
	my $import = time() - $t;
	my @st = stat("$db/data.mdb");
	$res{cutoverd} = scale_server($ctx, 'cutoverd', dir => "$dir/cutoverd", db => $db,
				      last => $last, queries => $queries);
	@{ $res{cutoverd} }{qw(import db_bytes db_disk)} = ($import, $st[7], $st[12] * 512);
	for my $ref (qw(nsd knot gdnsd)) {
		$res{$ref} = scale_server($ctx, $ref, dir => "$dir/$ref",
					  zones => [ [ 'big.test', $zone ] ], last => $last,
					  queries => $queries);
	}
	return \%res;
}

1;
