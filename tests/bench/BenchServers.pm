# SPDX-License-Identifier: MIT
# Bench servers: configure, start (pinned), watch (CPU time, memory) and stop cutoverd and the
# reference servers NSD, Knot and gdnsd, each in the foreground on an unprivileged temp dir.
package BenchServers;

use strict;
use warnings;

use CutoverTest qw(spawn reap stop_pid free_port slurp write_file query_at repo_root);
use POSIX ();
use Time::HiRes qw(sleep time);

our @SERVERS = qw(cutoverd nsd knot gdnsd);

my $TCK = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

# ---------------------------------------------------------------------------------------------
# Configuration of each server. Common options: dir (its own, created), port, threads,
# zones => [[NAME, FILE]...]; gdnsd also takes plugins => TEXT (its plugin config).

sub conf_nsd
{
	my (%o) = @_;
	my $d = $o{dir};
	# Debian's NSD has RRL on (200 qps per source): off, with a small table (the default one is
	# ~58 MB of RSS). reuseport spreads the queries over server-count processes.
	my $c = <<"EOF";
server:
	ip-address: 127.0.0.1\@$o{port}
	do-ip6: no
	server-count: $o{threads}
	reuseport: yes
	database: ""
	username: ""
	chroot: ""
	zonesdir: "$d"
	zonelistfile: "$d/zone.list"
	xfrdfile: "$d/xfrd.state"
	xfrdir: "$d"
	pidfile: "$d/nsd.pid"
	logfile: "$d/nsd.log"
	verbosity: 0
	minimal-responses: yes
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	rrl-size: 1000
remote-control:
	control-enable: no
EOF
	$c .= "zone:\n\tname: \"$_->[0]\"\n\tzonefile: \"$_->[1]\"\n" for @{ $o{zones} };
	write_file("$d/nsd.conf", $c);
	return [ '/usr/sbin/nsd', '-d', '-c', "$d/nsd.conf" ];
}

sub conf_knot
{
	my (%o) = @_;
	my $d = $o{dir};
	# No rate limiting unless mod-rrl is configured; never writes the zone or a journal.
	my $c = <<"EOF";
server:
    rundir: "$d"
    listen: 127.0.0.1\@$o{port}
    udp-workers: $o{threads}
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$d/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$d"
    zonefile-sync: -1
    journal-content: none
    semantic-checks: off
zone:
EOF
	$c .= "  - domain: $_->[0]\n    file: \"$_->[1]\"\n" for @{ $o{zones} };
	write_file("$d/knot.conf", $c);
	return [ '/usr/sbin/knotd', '-c', "$d/knot.conf" ];
}

sub conf_gdnsd
{
	my (%o) = @_;
	my $d = $o{dir};
	mkdir("$d/$_") for qw(zones r s);
	for my $z (@{ $o{zones} }) {
		write_file("$d/zones/$z->[0]", slurp($z->[1]));
	}
	# run_dir stays short: the control socket's path must fit in 108 bytes.
	my $plugins = $o{plugins} // '';
	write_file("$d/config", <<"EOF");
options => {
  listen => [ 127.0.0.1 ]
  dns_port => $o{port}
  udp_threads => $o{threads}
  tcp_threads => 1
  run_dir => $d/r
  state_dir => $d/s
}
plugins => {
$plugins
}
EOF
	return [ '/usr/sbin/gdnsd', '-c', $d, 'start' ];
}

sub conf_cutoverd
{
	my (%o) = @_;
	return [ $ENV{CUTOVERD} // repo_root() . '/cutoverd', '--db', $o{db},
		 '--listen', "127.0.0.1:$o{port}", '--threads', $o{threads} ];
}

my %CONF = (cutoverd => \&conf_cutoverd, nsd => \&conf_nsd, knot => \&conf_knot,
	    gdnsd => \&conf_gdnsd);

# ---------------------------------------------------------------------------------------------
# Processes.

# All processes of the tree rooted at PID (NSD forks its servers and xfrd).
sub tree
{
	my ($root) = @_;
	my %kids;
	for my $stat (glob('/proc/[0-9]*/stat')) {
		my $s = slurp($stat);
		next unless $s =~ /^(\d+) \(.*\) \S+ (\d+)/s;
		push @{ $kids{$2} }, $1;
	}
	my @all = ($root);
	for (my $i = 0; $i < @all; $i++) {
		push @all, @{ $kids{ $all[$i] } // [] };
	}
	return grep { -e "/proc/$_" } @all;
}

# utime + stime of one process (all its threads, live and exited), in seconds.
sub cpu_of
{
	my ($pid) = @_;
	my $s = slurp("/proc/$pid/stat");
	return 0 unless $s =~ /\)\s+(.*)$/s;
	my @f = split ' ', $1; # fields from 3 (state) on: utime is field 14, stime 15
	return ($f[11] + $f[12]) / $TCK;
}

# new(NAME, dir => DIR, port => P, threads => N, zones => [...], cpu => LIST, env => {...},
#     db => DIR (cutoverd), plugins => TEXT (gdnsd), ready_name => QNAME)
sub new
{
	my ($class, $name, %o) = @_;
	mkdir($o{dir}) or die "$o{dir}: $!" unless -d $o{dir};
	my $self = bless { name => $name, %o }, $class;
	$self->{cmd} = $CONF{$name}->(%o);
	return $self;
}

sub now { return Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()) }

# Start; when cpu is set, under taskset (and every thread re-pinned once it answers). Returns
# the monotonic time at which the server's own program was running: its name showed in
# /proc/PID/comm, after the harness's fork and taskset (polled, so a few microseconds late).
# Dies when it exits or does not answer within wait seconds.
sub start
{
	my ($self, %o) = @_;
	my @cmd = @{ $self->{cmd} };
	my $comm = substr((split m{/}, $cmd[0])[-1], 0, 15);
	unshift @cmd, 'taskset', '-c', $self->{cpu} if defined $self->{cpu};
	$self->{err} = "$self->{dir}/$self->{name}.err";
	my $t0 = now();
	$self->{pid} = spawn(cmd => \@cmd, stderr => $self->{err}, stdout => "$self->{dir}/out",
			     env => $self->{env} // {});
	while (now() < $t0 + 5) {
		my $c = slurp("/proc/$self->{pid}/comm");
		chomp $c;
		if ($c eq $comm || $c eq '') {
			$t0 = now();
			last;
		}
	}
	return $t0 if $o{nowait};
	$self->wait_ready($o{wait} // 60);
	return $t0;
}

sub wait_ready
{
	my ($self, $wait) = @_;
	my $deadline = time() + $wait;
	my $qname = $self->{ready_name};
	while (1) {
		my $st = reap($self->{pid}, 0);
		die "$self->{name} exited (status $st):\n" . slurp($self->{err}) if defined $st;
		my $p = query_at('127.0.0.1', $self->{port}, $qname, 'A', timeout => 0.3);
		last if $p && $p->header->rcode eq 'NOERROR' && $p->header->ancount > 0;
		if (time() > $deadline) {
			$self->stop;
			die "$self->{name} gave no answer for $qname within $wait s:\n"
				. slurp($self->{err});
		}
		sleep(0.02);
	}
	$self->pin if defined $self->{cpu};
	return;
}

# Every thread of every process onto the server CPU (knotd re-pins its UDP workers itself).
sub pin
{
	my ($self) = @_;
	for my $pid (tree($self->{pid})) {
		system("taskset -a -p -c $self->{cpu} $pid >/dev/null 2>&1");
	}
	return;
}

# "3 threads in 1 process on CPU 1" (or what differs), read back from /proc.
sub pinning
{
	my ($self) = @_;
	my (%cpus, $threads);
	my @procs = tree($self->{pid});
	for my $pid (@procs) {
		for my $task (glob("/proc/$pid/task/*")) {
			my ($l) = slurp("$task/status") =~ /^Cpus_allowed_list:\s*(\S+)/m;
			$cpus{ $l // '?' }++;
			$threads++;
		}
	}
	return sprintf('%d threads in %d process%s on CPU %s', $threads // 0, scalar @procs,
		       @procs == 1 ? '' : 'es', join(' and ', sort keys %cpus));
}

# Still running (not exited)?
sub running
{
	my ($self) = @_;
	return $self->{pid} && !defined reap($self->{pid}, 0);
}

sub pid { return $_[0]{pid} }
sub port { return $_[0]{port} }
sub name { return $_[0]{name} }

# CPU seconds used so far by all the server's processes.
sub cpu
{
	my ($self) = @_;
	my $sum = 0;
	$sum += cpu_of($_) for tree($self->{pid});
	return $sum;
}

# CPU seconds used so far by each thread of the server's processes: { TID => seconds }.
sub thread_cpu
{
	my ($self) = @_;
	my %t;
	for my $pid (tree($self->{pid})) {
		for my $task (glob("/proc/$pid/task/*")) {
			my ($tid) = $task =~ m{/(\d+)$};
			$t{$tid} = cpu_of("$pid/task/$tid");
		}
	}
	return \%t;
}

# Memory in MiB, summed over the processes: rss; pss (shared pages split between the processes
# that map them, so NSD's forked copies count once); anon (Pss_Anon: the part that is not file
# cache; LMDB's pages are file-backed).
sub memory
{
	my ($self) = @_;
	my %m = (rss => 0, pss => 0, anon => 0);
	for my $pid (tree($self->{pid})) {
		my $r = slurp("/proc/$pid/smaps_rollup");
		$m{rss} += $1 if $r =~ /^Rss:\s+(\d+)/m;
		$m{pss} += $1 if $r =~ /^Pss:\s+(\d+)/m;
		$m{anon} += $1 if $r =~ /^Pss_Anon:\s+(\d+)/m;
	}
	$m{$_} /= 1024 for keys %m;
	return \%m;
}

sub stop
{
	my ($self) = @_;
	return unless $self->{pid};
	stop_pid($self->{pid}, group => 1, grace => 10);
	$self->{pid} = undef;
	return;
}

sub DESTROY
{
	my ($self) = @_;
	local ($?, $@, $!);
	$self->stop;
	return;
}

1;
