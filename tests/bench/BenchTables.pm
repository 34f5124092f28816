# SPDX-License-Identifier: MIT
# Bench tables: the results as the markdown report (medians, ratios, issue 7's targets) and as CSV.
package BenchTables;

use strict;
use warnings;

use Exporter qw(import);
use POSIX qw(strftime);

use BenchReport qw(median quantile num ms ratio md_table csv_file);
use BenchServers;

our @EXPORT_OK = qw(load_summary versions report_md write_csv);

my %WLABEL = (static => 'static hits', mix => 'mix', pool => 'pool name');

# Medians per (threads, workload, server); the ratio is cutoverd's q/CPU-s over the server's
# in the same pass, median over the passes.
sub load_summary
{
	my (@passes) = @_;
	my (%by, @rows);
	push @{ $by{ $_->{threads} }{ $_->{workload} }{ $_->{server} } }, $_ for @passes;
	for my $t (sort keys %by) {
		for my $w (grep { $by{$t}{$_} } qw(static mix pool)) {
			my %cut = map { $_->{rep} => $_->{sat}{per_cpu} }
				  @{ $by{$t}{$w}{cutoverd} // [] };
			for my $name (@BenchServers::SERVERS) {
				my @p = @{ $by{$t}{$w}{$name} // [] } or next;
				my @r = map {
					my ($c, $it) = ($cut{ $_->{rep} }, $_->{sat}{per_cpu});
					defined $c && $it ? $c / $it : undef;
				} $name eq 'cutoverd' ? () : @p;
				my $med = sub { my ($k, $f) = @_; median(map { $_->{$k}{$f} } @p) };
				push @rows, {
					threads => $t, workload => $w, server => $name,
					qps => $med->(sat => 'qps'), lost => $med->(sat => 'lost'),
					lat_lost => $med->(lat => 'lost'),
					lat_avg => $med->(lat => 'lat_avg'),
					lat_max => $med->(lat => 'lat_max'),
					per_cpu => $med->(sat => 'per_cpu'),
					reply_bytes => $med->(sat => 'reply_bytes'),
					rcodes => $p[0]{sat}{rcodes}, ratio => median(@r),
				};
			}
		}
	}
	return @rows;
}

sub output_of
{
	my ($cmd) = @_;
	return `$cmd 2>&1` // '';
}

# versions(ROOT) -> { nsd, knot, gdnsd, dnsperf, cutoverd (git describe of ROOT) }
sub versions
{
	my ($root) = @_;
	return {
		nsd => (output_of('/usr/sbin/nsd -v') =~ /NSD version (\S+)/)[0],
		knot => (output_of('/usr/sbin/knotd -V') =~ /version (\S+)/)[0],
		gdnsd => (output_of('/usr/sbin/gdnsd -V') =~ /gdnsd version (\S+)/)[0],
		dnsperf => (output_of('dnsperf -h') =~ /Version (\S+)/)[0],
		cutoverd => (output_of("git -C $root describe --always --dirty") =~ /(\S+)/)[0],
	};
}

sub labels
{
	my ($ver) = @_;
	return { cutoverd => "cutoverd ($ver->{cutoverd})", nsd => "NSD $ver->{nsd}",
		 knot => "Knot $ver->{knot}", gdnsd => "gdnsd $ver->{gdnsd}" };
}

sub md_header
{
	my ($res, $m) = @_;
	my ($ctx, $ver, $label) = ($m->{ctx}, $m->{ver}, labels($m->{ver}));
	my $md = sprintf("* Measured %s by `make bench` on: `nproc` %d, %s, Linux %s; load average "
			 . "(1 min) %s before, %s after (the bench itself included); %.0f s in all.\n",
			 strftime('%Y-%m-%d %H:%M UTC', gmtime($m->{start})), $m->{nproc},
			 $m->{model} // 'unknown CPU', (split ' ', `uname -r`)[0],
			 $m->{load_before}, $m->{load_after}, $m->{elapsed});
	$md .= defined $ctx->{cpu_server}
		? "* Pinning: every server thread on CPU 1 (`taskset`, then `taskset -a -p` once it "
		  . "answers), dnsperf on CPU 0.\n"
		: "* Pinning: none (one CPU).\n";
	$md .= "* dnsperf $ver->{dnsperf} -c 4 -T 2 -q 200: $ctx->{seconds} s saturating runs (q/s, "
		. "lost, server CPU), latency from $ctx->{lat_seconds} s runs at a fixed "
		. "$ctx->{lat_qps} q/s; $ctx->{repeats} pass" . ($ctx->{repeats} > 1 ? 'es' : '')
		. ", medians.\n";
	for my $t (sort keys %{ $res->{pinning} }) {
		$md .= "* Threads at $t worker" . ($t > 1 ? 's' : '') . ': ' . join('; ', map {
			"$label->{$_}: $res->{pinning}{$t}{$_}"
		} @BenchServers::SERVERS) . ".\n";
	}
	return $md;
}

sub md_load
{
	my ($res, $m) = @_;
	my $label = labels($m->{ver});
	my $md = '';
	for my $t (1, 2) {
		my @rows = grep { $_->{threads} == $t } @{ $res->{load} } or next;
		$md .= $t == 1
			? "\n#### Load, one worker each\n\n"
			: "\n#### Load, two workers each (both on CPU 1: on two cores the other one runs "
			  . "dnsperf, so this row shows the cost of a second worker, not scaling)\n\n";
		$md .= md_table([ 'workload', 'server', 'reply bytes', 'q/s', 'avg ms @10k q/s',
				  'max ms @10k q/s', 'lost', 'q per server CPU-s', 'cutoverd / it' ],
				[ map { [ $WLABEL{ $_->{workload} }, $label->{ $_->{server} },
					  num($_->{reply_bytes}), num($_->{qps}), ms($_->{lat_avg}),
					  ms($_->{lat_max}, 2),
					  num($_->{lost}) . ' / ' . num($_->{lat_lost}),
					  num($_->{per_cpu}),
					  $_->{server} eq 'cutoverd' ? '-' : ratio($_->{ratio}) ] }
				  @rows ]);
	}
	return $md . "\nreply bytes: the average reply, which shows the servers answer alike (gdnsd 3 "
		. "does not follow CNAMEs inside the zone, so its CNAME replies are shorter and "
		. "cheaper; NSD and Knot answer the pool name from a static RRset). lost: saturating "
		. "run / fixed-rate run. q per server CPU-s: queries answered per second of the "
		. "server's own CPU time (utime+stime of all its threads and processes, from /proc), "
		. "the figure that does not depend on the load generator; cutoverd / it: cutoverd's "
		. "over the server's, in the same pass, median of the passes.\n";
}

# One row of timings: median, p99, max (FORMAT for each) and the count.
sub timing_row
{
	my ($what, $fmt, @v) = @_;
	return [ $what, map({ sprintf($fmt, quantile($_, @v)) } 0.5, 0.99, 1), scalar @v ];
}

sub md_cutover
{
	my ($res, $m) = @_;
	my @rows;
	if (my $f = $res->{flips}) {
		my $next = grep { $_->{queries} == 1 } @$f;
		push @rows, timing_row('`cutoverctl weight` returned -> first answer with the new '
				       . 'group', '%.3f ms', map { $_->{wait_us} / 1000 } @$f);
		push @rows, [ 'answered by the very next query after the command returned',
			      sprintf('%.0f %%', 100 * $next / @$f), '', '', scalar @$f ];
		push @rows, timing_row('`cutoverctl weight` run time (fork, exec, one write '
				       . 'transaction)', '%.2f ms', map { $_->{cmd_us} / 1000 } @$f);
	}
	if (my $h = $res->{health}) {
		push @rows, timing_row('health: backend killed -> first answer without it (TCP check, '
				       . '200 ms, fall 3)', '%.0f ms', map { $_ / 1000 } @{ $h->{down} }
				       );
		push @rows, timing_row('health: backend back -> first answer with it (default rise)',
				       '%.0f ms', map { $_ / 1000 } @{ $h->{up} });
	} elsif ($m->{phase}{cutover}) {
		push @rows, [ 'health: backend killed -> first answer without it',
			      "n/a ($res->{health_error})", '', '', 0 ];
	}
	return "\n#### Cutover\n\n" . md_table([ 'figure', 'median', 'p99', 'max', 'samples' ], \@rows);
}

sub mem
{
	my ($m) = @_;
	return sprintf('%.1f / %.1f / %.1f', @$m{qw(rss pss anon)});
}

sub md_scale
{
	my ($res, $m) = @_;
	my ($sc, $ctx, $label) = ($res->{scale}, $m->{ctx}, labels($m->{ver}));
	my @rows;
	for my $name (grep { $sc->{$_} } @BenchServers::SERVERS) {
		my $r = $sc->{$name};
		if ($r->{error}) {
			push @rows, [ $label->{$name}, ('-') x 2, $r->{error}, ('-') x 4 ];
			next;
		}
		push @rows, [ $label->{$name},
			      defined $r->{import} ? sprintf('%.1f s', $r->{import}) : '-',
			      defined $r->{db_disk} ? sprintf('%.0f MiB', $r->{db_disk} / 2**20) : '-',
			      sprintf('%.1f ms', 1000 * $r->{first}), mem($r->{mem_start}),
			      mem($r->{mem_run}), num($r->{run}{per_cpu}),
			      num($r->{run}{qps}) . ' / ' . num($r->{run}{lost}) ];
	}
	return "\n#### Scale: " . num($sc->{names}) . " names\n\n"
		. md_table([ 'server', 'import', 'database on disk', 'start -> first answer',
			     'RSS / PSS / anon after start', 'RSS / PSS / anon after run',
			     'q per server CPU-s', 'q/s / lost' ], \@rows)
		. "\nMiB, summed over the server's processes (NSD forks: its RSS counts shared pages "
		. "once per process, PSS once in all). anon: memory of the process's own (PSS_Anon); "
		. "the rest of cutoverd's is LMDB's file pages (page cache: shared, evictable). The "
		. "zone file and the database are in the page cache (just written). start -> first "
		. "answer: median of $ctx->{repeats} start" . ($ctx->{repeats} > 1 ? 's' : '')
		. ". The run: $ctx->{seconds} s saturating, random names of the zone.\n";
}

sub md_alloc
{
	my ($res, $m) = @_;
	my $label = labels($m->{ver});
	return "\n#### Heap allocations per query\n\n"
		. md_table([ 'server', 'workload', 'queries', 'answering threads', 'their allocations',
			     'per query', 'other threads\' allocations' ],
			   [ map { [ $label->{ $_->{server} }, $WLABEL{ $_->{workload} },
				     num($_->{queries}), $_->{workers}, num($_->{allocs}),
				     $_->{queries} ? sprintf('%.4f', $_->{allocs} / $_->{queries}) : '-',
				     num($_->{other_allocs}) ] } @{ $res->{alloc} } ])
		. "\nCounted by an LD_PRELOAD interposer (tests/bench/mallocount.c: malloc, calloc, "
		. "realloc, memalign and the rest, per thread, in every process of the server) over a "
		. "$m->{ctx}{alloc_seconds} s saturating UDP run after a 1 s warm-up. Answering "
		. "threads: those that took at least a tenth of the server's CPU time during the run; "
		. "the other threads' allocations (timers, cutoverd's prober scans) do not depend on "
		. "the queries.\n";
}

# Issue 7's targets against the figures (a report, never an assertion).
sub md_targets
{
	my ($res, $m) = @_;
	my $label = labels($m->{ver});
	my (@t, %s1);
	my $yes = sub { $_[0] ? 'yes' : 'no' };
	$s1{"$_->{workload}/$_->{server}"} = $_ for grep { $_->{threads} == 1 } @{ $res->{load} // [] };
	for my $w (qw(static mix)) {
		my @refs = grep { $s1{"$w/$_"} } qw(nsd knot gdnsd);
		next unless $s1{"$w/cutoverd"} && @refs;
		my ($best) = sort { $s1{"$w/$b"}{per_cpu} <=> $s1{"$w/$a"}{per_cpu} } @refs;
		my $r = $s1{"$w/$best"}{ratio};
		push @t, [ "$WLABEL{$w}: q/CPU-s >= 1.0x the best reference",
			   ratio($r) . " of $label->{$best}", $yes->(defined $r && $r >= 1) ];
	}
	if ($s1{'pool/cutoverd'} && $s1{'static/cutoverd'}) {
		my $r = $s1{'pool/cutoverd'}{per_cpu} / $s1{'static/cutoverd'}{per_cpu};
		push @t, [ 'pool name >= 0.9x cutoverd static', ratio($r), $yes->($r >= 0.9) ];
		my $g = $s1{'pool/gdnsd'}{ratio};
		push @t, [ 'pool name >= 1.0x gdnsd weighted', ratio($g),
			   $yes->(defined $g && $g >= 1) ];
	}
	if ($res->{flips}) {
		my $med = median(map { $_->{wait_us} / 1000 } @{ $res->{flips} });
		push @t, [ 'cutover visible: median < 1 ms', sprintf('%.3f ms', $med),
			   $yes->($med < 1) ];
	}
	my $c = $res->{scale} && $res->{scale}{cutoverd};
	if ($c && !$c->{error}) {
		my $n = num($res->{scale}{names});
		push @t, [ "$n names: first answer < 100 ms", sprintf('%.1f ms', 1000 * $c->{first}),
			   $yes->($c->{first} < 0.1) ];
		my $rss = $c->{mem_start}{rss};
		push @t, [ "$n names: RSS after start < 30 MB", sprintf('%.1f MiB', $rss),
			   $yes->($rss < 30) ];
	}
	if (my @a = grep { $_->{server} eq 'cutoverd' } @{ $res->{alloc} // [] }) {
		my ($n, $q) = (0, 0);
		$n += $_->{allocs}, $q += $_->{queries} for @a;
		push @t, [ 'zero heap allocations per query', sprintf('%d in %s queries', $n, num($q)),
			   $yes->($n == 0) ];
	}
	push @t, [ 'two workers >= 1.8x one (cores free)',
		   'not measurable on 2 cores (dnsperf needs one)', '-' ] if $res->{load};
	return @t ? "\n#### Targets of issue 7\n\n" . md_table([ 'target', 'measured', 'met' ], \@t)
		  : '';
}

# report_md(RES, META) -> the markdown report. RES: what the phases measured; META: ctx, phase,
# nproc, model, load_before, load_after, elapsed, start (time), ver (versions()).
sub report_md
{
	my ($res, $m) = @_;
	my $md = md_header($res, $m);
	$md .= md_load($res, $m) if $res->{load};
	$md .= md_cutover($res, $m) if $res->{flips} || $m->{phase}{cutover};
	$md .= md_scale($res, $m) if $res->{scale};
	$md .= md_alloc($res, $m) if $res->{alloc};
	return $md . md_targets($res, $m);
}

# write_csv(DIR, RES, META): every pass, the summaries, every cutover and health sample, the
# allocation counts, the scale figures and the machine.
sub write_csv
{
	my ($dir, $res, $m) = @_;
	csv_file("$dir/machine.csv",
		 [qw(nproc cpu load_before load_after seconds cpu_server cpu_client)],
		 [ [ @$m{qw(nproc model load_before load_after)}, sprintf('%.0f', $m->{elapsed}),
		     $m->{ctx}{cpu_server} // '', $m->{ctx}{cpu_client} // '' ] ]);
	if (my $p = $res->{passes}) {
		my @k = qw(sent completed lost qps lat_avg lat_max cpu per_cpu reply_bytes rcodes);
		csv_file("$dir/passes.csv",
			 [ qw(threads pass workload server), (map { "sat_$_" } @k),
			   map { "lat_$_" } @k ],
			 [ map { [ @$_{qw(threads rep workload server)}, @{ $_->{sat} }{@k},
				   @{ $_->{lat} }{@k} ] } @$p ]);
		my @s = qw(threads workload server reply_bytes rcodes qps lost lat_lost lat_avg
			   lat_max per_cpu ratio);
		csv_file("$dir/load.csv", \@s, [ map { [ @$_{@s} ] } @{ $res->{load} } ]);
	}
	if (my $f = $res->{flips}) {
		my @k = qw(cmd_us wait_us queries);
		csv_file("$dir/cutover.csv", [ 'sample', @k ],
			 [ map { [ $_, @{ $f->[$_] }{@k} ] } 0 .. $#$f ]);
	}
	if (my $h = $res->{health}) {
		csv_file("$dir/health.csv", [qw(kill down_us up_us)],
			 [ map { [ $_, $h->{down}[$_], $h->{up}[$_] ] } 0 .. $#{ $h->{down} } ]);
	}
	if (my $al = $res->{alloc}) {
		my @k = qw(server workload queries workers allocs frees other_allocs);
		csv_file("$dir/alloc.csv", \@k, [ map { [ @$_{@k} ] } @$al ]);
	}
	if (my $sc = $res->{scale}) {
		my @mem = map { my $w = $_; map { "${_}_$w" } qw(rss pss anon) } qw(start run);
		csv_file("$dir/scale.csv",
			 [ qw(server names import_s db_bytes db_disk first_s), @mem,
			   qw(per_cpu qps lost error) ],
			 [ map {
				 my $r = $sc->{$_};
				 [ $_, $sc->{names}, @$r{qw(import db_bytes db_disk first)},
				   (map { $r->{$_} ? @{ $r->{$_} }{qw(rss pss anon)} : ('') x 3 }
				    qw(mem_start mem_run)),
				   $r->{run} ? @{ $r->{run} }{qw(per_cpu qps lost)} : ('') x 3,
				   $r->{error} ]
			   } grep { $sc->{$_} } @BenchServers::SERVERS ]);
	}
	return;
}

1;
