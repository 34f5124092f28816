# SPDX-License-Identifier: MIT
# Bench load: one bounded dnsperf run against a server, with the server's CPU time around it.
package BenchPerf;

use strict;
use warnings;

use Exporter qw(import);

use CutoverTest qw(run_cmd);

our @EXPORT_OK = qw(dnsperf load_run);

# dnsperf settings that saturate without losses here (BENCH-NOTES): 4 clients, 2 threads, 200
# queries outstanding; a query unanswered after 1 s is lost.
my @SATURATE = ('-c', 4, '-T', 2, '-q', 200);

# dnsperf(port => P, file => F, seconds => S, qps => Q (a fixed offered rate; else saturating),
#         cpu => LIST) -> { sent, completed, lost, qps, lat_avg, lat_min, lat_max (seconds),
#         rcodes ("NOERROR 85.00%, NXDOMAIN 15.00%"), reply_bytes (average) }
sub dnsperf
{
	my (%o) = @_;
	my @cmd = ('dnsperf', '-s', '127.0.0.1', '-p', $o{port}, '-d', $o{file}, '-l', $o{seconds},
		   '-t', 1, @SATURATE);
	push @cmd, '-Q', $o{qps} if $o{qps};
	unshift @cmd, 'taskset', '-c', $o{cpu} if defined $o{cpu};
	# -l bounds the run; the timeout only catches a dnsperf that hangs.
	my $r = run_cmd(\@cmd, timeout => $o{seconds} + 30);
	die "dnsperf failed (exit $r->{exit}): @cmd\n$r->{err}$r->{out}" if $r->{exit} != 0;
	my $out = $r->{out};
	my %s;
	$s{sent} = $1 if $out =~ /Queries sent:\s+(\d+)/;
	$s{completed} = $1 if $out =~ /Queries completed:\s+(\d+)/;
	$s{lost} = $1 if $out =~ /Queries lost:\s+(\d+)/;
	$s{qps} = $1 if $out =~ /Queries per second:\s+([\d.]+)/;
	$s{rcodes} = $1 =~ s/\s+\d+ \((\S+)\)/ $1/gr if $out =~ /Response codes:\s+(.*)/;
	$s{reply_bytes} = $1 if $out =~ /Average packet size:.*response (\d+)/;
	@s{qw(lat_avg lat_min lat_max)} = ($1, $2, $3)
		if $out =~ /Average Latency \(s\):\s+([\d.]+)\s+\(min\s+([\d.]+),\s+max\s+([\d.]+)\)/;
	die "cannot read dnsperf's statistics:\n$out" unless defined $s{completed} && defined $s{qps};
	return \%s;
}

# load_run(SERVER, %dnsperf options) -> dnsperf's figures plus cpu (server CPU seconds during
# the run, all its threads and processes) and per_cpu (queries answered per server CPU-second).
sub load_run
{
	my ($server, %o) = @_;
	my $c0 = $server->cpu;
	my $s = dnsperf(port => $server->port, %o);
	$s->{cpu} = $server->cpu - $c0;
	$s->{per_cpu} = $s->{cpu} > 0 ? $s->{completed} / $s->{cpu} : undef;
	return $s;
}

1;
