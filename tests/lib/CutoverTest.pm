# SPDX-License-Identifier: MIT
# Integration-test helper: a temp database, cutoverctl runs, a real cutoverd on a free loopback
# port, DNS queries with Net::DNS and raw bytes over UDP and TCP. Nothing started is left behind.
package CutoverTest;

use strict;
use warnings;

use Cwd qw(abs_path);
use Errno qw(EINTR);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Temp ();
use IO::Select;
use IO::Socket::IP;
use Net::DNS;
use Net::DNS::ZoneFile;
use POSIX qw(WNOHANG _exit setpgid);
use Socket qw(SOCK_DGRAM SOCK_STREAM SOL_SOCKET SO_REUSEADDR);
use Time::HiRes qw(sleep time);

our @EXPORT_OK = qw(
	repo_root zone_path free_port spawn reap stop_pid run_cmd
	make_query query_at send_udp udp_socket recv_udp tcp_exchange
	rr_key rr_keys section_diff rcode_of slurp timeout_scale read_zone rrsets_of
	reply_is rrs no_serial write_file
);

# Repository root: this file is tests/lib/CutoverTest.pm.
my $ROOT = abs_path(dirname(__FILE__) . '/../..');

sub repo_root { return $ROOT }

# zones/NAME.zone in the repository (absolute).
sub zone_path
{
	my ($name) = @_;
	return "$ROOT/zones/$name.zone";
}

# Under a wrapper such as valgrind everything is much slower: scale every wait. The waits are
# upper bounds only (a ready daemon is used at once); no test asserts on elapsed time.
sub timeout_scale
{
	my $s = $ENV{CT_TEST_TIMEOUT_SCALE};
	return $s if defined $s && $s =~ /^\d+(\.\d+)?$/ && $s > 0;
	return wrapper('CT_TEST_WRAPPER') || wrapper('CT_TEST_CTL_WRAPPER') ? 10 : 1;
}

# The words of $ENV{$var}, a command to run cutoverd (CT_TEST_WRAPPER) or cutoverctl
# (CT_TEST_CTL_WRAPPER) under, e.g. valgrind: an empty list when unset.
sub wrapper
{
	my ($var) = @_;
	return split(' ', $ENV{$var} // '');
}

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	my $s = <$fh>;
	close $fh;
	return defined $s ? $s : '';
}

# Write $text to $path (dies on error); returns $path.
sub write_file
{
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
	return $path;
}

# ---------------------------------------------------------------------------------------------
# Processes. Every child is registered; the END block stops whatever is still running, so a
# failing or dying test never leaves a daemon behind. Children also get SIGTERM if this perl
# process dies abruptly (PR_SET_PDEATHSIG).

my %LIVE; # pid => { pgrp => bool, stderr => FILE, cmd => PROGRAM }

# Sanitizer and valgrind reports (make test-asan, make test-valgrind): the first line of one in
# the stderr of any process started here, once it has exited. A program that hits one may still
# exit as the test expects (a leak found at exit, a report in a daemon's log), so every report
# fails the test at the end (END below) and is shown at once.
my $SANITIZER_RE = do {
	my $alt = join('|',
		'==\d+==\s*ERROR: \w*Sanitizer\b',          # ASan, LSan
		'\S+:\d+:\d+: runtime error:',                # UBSan
		'==\d+== (?:Invalid (?:read|write|free)|Conditional jump|Use of uninitialised'
		. '|Syscall param|Mismatched free|Source and destination overlap'
		. '|.* definitely lost in )');                # valgrind -q
	qr/^(?:$alt).*$/m;
};
my @REPORTS;
our $SANITIZER_DIAG = 1; # show each report at once (sanitizer.t turns it off)

# Record the sanitizer reports in $text (stderr of $what).
sub check_sanitizer
{
	my ($what, $text) = @_;
	return unless $text =~ $SANITIZER_RE;
	my $first = $&;
	push @REPORTS, "$what: $first";
	my ($report) = $text =~ /(\Q$first\E(?:.*\n){0,40})/;
	Test::More::diag("sanitizer report from $what:\n" . ($report // $first))
		if $SANITIZER_DIAG && $INC{'Test/More.pm'};
	return;
}

# The sanitizer reports recorded so far, forgotten (for a test of this check itself).
sub take_sanitizer_reports
{
	my @r = @REPORTS;
	@REPORTS = ();
	return @r;
}

sub set_pdeathsig
{
	my $nr = eval {
		require 'sys/syscall.ph';
		SYS_prctl();
	};
	if (!defined $nr) {
		require Config;
		my $arch = $Config::Config{archname} // '';
		$nr = $arch =~ /^x86_64/ ? 157 : $arch =~ /^(aarch64|arm64)/ ? 167 : undef;
	}
	syscall($nr, 1, 15) if defined $nr; # PR_SET_PDEATHSIG = 1, SIGTERM
	return;
}

# spawn(cmd => [...], stdout => FILE, stderr => FILE, stdin => FILE, env => {K => V or undef},
# cwd => DIR) -> pid. The child runs in a
# process group of its own so that a whole forking tree (NSD) can be stopped at once.
sub spawn
{
	my (%o) = @_;
	my @cmd = @{ $o{cmd} };
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		setpgid(0, 0);
		set_pdeathsig();
		while (my ($k, $v) = each %{ $o{env} // {} }) {
			if (defined $v) {
				$ENV{$k} = $v;
			} else {
				delete $ENV{$k};
			}
		}
		chdir($o{cwd}) or _exit(126) if defined $o{cwd};
		open(STDIN, '<', $o{stdin} // '/dev/null') or _exit(126);
		open(STDOUT, '>', $o{stdout} // '/dev/null') or _exit(126);
		open(STDERR, '>', $o{stderr} // '/dev/null') or _exit(126);
		{ no warnings 'exec'; exec { $cmd[0] } @cmd; }
		print STDERR "exec $cmd[0]: $!\n";
		_exit(127);
	}
	$LIVE{$pid} = { pgrp => 1, stderr => $o{stderr}, cmd => $cmd[0] };
	return $pid;
}

# Wait up to $timeout seconds for $pid; returns its wait status, or undef if still running.
sub reap
{
	my ($pid, $timeout) = @_;
	my $deadline = time() + $timeout;
	while (1) {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid) {
			my $st = $?;
			my $p = delete $LIVE{$pid};
			check_sanitizer($p->{cmd}, slurp($p->{stderr}))
				if $p && defined $p->{stderr} && $p->{stderr} ne '/dev/null';
			return $st;
		}
		if ($r < 0) {
			delete $LIVE{$pid};
			return undef;
		}
		return undef if time() >= $deadline;
		sleep(0.02);
	}
}

# SIGTERM (to the process, or with group => 1 to its process group), then SIGKILL if it has not
# exited within the grace time. Returns the wait status of the SIGTERM stop, undef if it had to
# be killed.
sub stop_pid
{
	my ($pid, %o) = @_;
	return undef unless $LIVE{$pid};
	my $target = $o{group} ? -$pid : $pid;
	kill('TERM', $target);
	my $st = reap($pid, $o{grace} // 30 * timeout_scale());
	if (!defined $st) {
		kill('KILL', $target);
		reap($pid, 30);
	} elsif ($o{group}) {
		kill('KILL', -$pid); # stragglers of a forking server
	}
	return $st;
}

sub cleanup_all
{
	for my $pid (keys %LIVE) {
		stop_pid($pid, group => 1, grace => 10);
	}
	return;
}

END {
	{
		local $?; # keep the test's exit status
		cleanup_all();
	}
	if (@REPORTS) {
		print STDERR "# sanitizer reports (the test fails):\n", map { "#   $_\n" } @REPORTS;
		$? ||= 1;
	}
}

# Make SIGINT/SIGTERM run the END block too.
$SIG{INT} = sub { exit(130) };
$SIG{TERM} = sub { exit(143) };

# run_cmd([cmd...], timeout => s, stdin => FILE, env => {...}, cwd => DIR)
#   -> { exit, signal, out, err, timedout }; exit is -1 when it was killed by a signal.
sub run_cmd
{
	my ($cmd, %o) = @_;
	my $tmp = File::Temp->newdir(TMPDIR => 1, CLEANUP => 1);
	my ($out, $err) = ("$tmp/out", "$tmp/err");
	my $pid = spawn(cmd => $cmd, stdout => $out, stderr => $err, stdin => $o{stdin},
			env => $o{env}, cwd => $o{cwd});
	my $st = reap($pid, $o{timeout} // 120 * timeout_scale());
	my $timedout = !defined $st;
	$st = stop_pid($pid, grace => 1) // 9 if $timedout;
	return {
		exit => $timedout ? -1 : ($st & 127) ? -1 : $st >> 8,
		signal => $st & 127,
		timedout => $timedout,
		out => slurp($out),
		err => slurp($err),
	};
}

# ---------------------------------------------------------------------------------------------
# Ports.

# A port free for both UDP and TCP on $host: bind both on port 0 (the kernel picks), release.
sub free_port
{
	my ($host) = @_;
	$host //= '127.0.0.1';
	for (1 .. 50) {
		my $u = IO::Socket::IP->new(LocalHost => $host, LocalPort => 0, Proto => 'udp')
			or die "bind udp $host: $!";
		my $port = $u->sockport;
		my $t = IO::Socket::IP->new(LocalHost => $host, LocalPort => $port, Proto => 'tcp',
					    Listen => 1);
		next unless $t;
		close $t;
		close $u;
		return $port;
	}
	die "no free port on $host";
}

# ---------------------------------------------------------------------------------------------
# The test fixture: a temp directory with a database, and optionally a running cutoverd.

# CutoverTest->new(zones => [files], start => 1, threads => N, listen => [...]).
sub new
{
	my ($class, %o) = @_;
	my $dir = File::Temp->newdir('cutover-test-XXXXXX', TMPDIR => 1,
				     CLEANUP => !$ENV{CT_TEST_KEEP});
	my $self = bless {
		tmp => $dir,
		dir => "$dir",
		db => "$dir/db",
		host => '127.0.0.1',
		port => undef,
		pid => undef,
		runs => 0,
	}, $class;
	# CT_TEST_TARGET=HOST:PORT points the query checks at a server that is already running
	# (e.g. NSD serving zones/), to check a test's expectations; nothing is imported or started.
	if ($ENV{CT_TEST_TARGET} && $ENV{CT_TEST_TARGET} =~ /^\[?([^\]]+?)\]?:(\d+)$/) {
		@$self{qw(host port target)} = ($1, $2, 1);
		return $self;
	}
	for my $z (@{ $o{zones} // [] }) {
		my $r = $self->ctl('zone', 'import', $z);
		die "cannot import $z (exit $r->{exit}):\n$r->{err}$r->{out}" if $r->{exit} != 0;
	}
	if ($o{start}) {
		$self->start(%o) or die "cutoverd did not start:\n" . $self->stderr_text;
	}
	return $self;
}

sub dir { return $_[0]{dir} }
sub db { return $_[0]{db} }
sub host { return $_[0]{host} }
sub port { return $_[0]{port} }
sub pid { return $_[0]{pid} }

sub cutoverd_bin { return $ENV{CUTOVERD} // "$ROOT/cutoverd" }
sub cutoverctl_bin { return $ENV{CUTOVERCTL} // "$ROOT/cutoverctl" }

# Run cutoverctl with --db pointing at this fixture's database (unless nodb => 1).
sub ctl
{
	my ($self, @args) = @_;
	my %o;
	%o = %{ shift @args } if @args && ref $args[0] eq 'HASH';
	my @cmd = (wrapper('CT_TEST_CTL_WRAPPER'), cutoverctl_bin());
	push @cmd, '--db', $o{db} // $self->{db} unless $o{nodb};
	return run_cmd([ @cmd, @args ], %o);
}

# Start cutoverd. Options: listen => [ADDR:PORT...] (default 127.0.0.1 on a free port),
# threads => N, db => DIR, args => [extra], wrapper => [a command to run it with, such as
# prlimit]. Returns true once the ready line appeared; false if the daemon exited first (exit
# status in {exit_status}) or never got ready (then it is killed).
sub start
{
	my ($self, %o) = @_;
	return $self->start_once(%o) if $o{listen};
	# A free port can be taken by someone else between free_port() and the daemon's bind:
	# try another port when that is what went wrong.
	for my $try (1 .. 3) {
		return 1 if $self->start_once(%o);
		return 0 unless defined $self->{exit_status} && $self->stderr_text =~ /in use/i;
	}
	return 0;
}

sub start_once
{
	my ($self, %o) = @_;
	die "cutoverd already running" if $self->{pid};
	my @listen;
	if ($o{listen}) {
		@listen = @{ $o{listen} };
	} else {
		$self->{port} = free_port('127.0.0.1');
		@listen = ("127.0.0.1:$self->{port}");
	}
	my @cmd = (cutoverd_bin(), '--db', $o{db} // $self->{db});
	push @cmd, map { ('--listen', $_) } @listen;
	push @cmd, '--threads', $o{threads} if defined $o{threads};
	push @cmd, @{ $o{args} } if $o{args};
	unshift @cmd, wrapper('CT_TEST_WRAPPER');
	unshift @cmd, @{ $o{wrapper} } if $o{wrapper}; # e.g. [ 'prlimit', '--nofile=64' ]
	$self->{runs}++;
	$self->{stderr} = "$self->{dir}/cutoverd.$self->{runs}.err";
	$self->{cmd} = \@cmd;
	$self->{exit_status} = undef;
	my $pid = spawn(cmd => \@cmd, stderr => $self->{stderr},
			stdout => "$self->{dir}/cutoverd.$self->{runs}.out");
	$self->{pid} = $pid;
	my $deadline = time() + ($o{timeout} // 60 * timeout_scale());
	while (1) {
		# The log line "<time> info: ready listen=...", not the word in --help's text.
		for my $line (split /\n/, slurp($self->{stderr})) {
			return 1 if $line =~ /^\S+\s+\w+:\s+ready\b/ || $line =~ /\bready\s+listen=/;
		}
		my $st = reap($pid, 0);
		if (defined $st) {
			$self->{exit_status} = $st;
			$self->{pid} = undef;
			return 0;
		}
		if (time() >= $deadline) {
			stop_pid($pid, grace => 5);
			$self->{pid} = undef;
			$self->{exit_status} = undef;
			return 0;
		}
		sleep(0.02);
	}
}

# Wait for a daemon that is expected to exit on its own (start-up errors).
sub wait_exit
{
	my ($self, $timeout) = @_;
	return $self->{exit_status} unless $self->{pid};
	my $st = reap($self->{pid}, $timeout // 60 * timeout_scale());
	if (defined $st) {
		$self->{pid} = undef;
		$self->{exit_status} = $st;
	}
	return $st;
}

sub stderr_text
{
	my ($self) = @_;
	return defined $self->{stderr} ? slurp($self->{stderr}) : '';
}

# Stop cutoverd with SIGTERM; returns its wait status (undef if it had to be SIGKILLed).
sub stop
{
	my ($self) = @_;
	my $pid = $self->{pid} or return $self->{exit_status};
	my $st = stop_pid($pid);
	$self->{pid} = undef;
	$self->{exit_status} = $st;
	return $st;
}

sub running
{
	my ($self) = @_;
	return 1 if $self->{target};
	return 0 unless $self->{pid};
	return 1 unless defined reap($self->{pid}, 0);
	$self->{pid} = undef;
	return 0;
}

sub DESTROY
{
	my ($self) = @_;
	local ($?, $@, $!);
	stop_pid($self->{pid}, group => 1, grace => 10) if $self->{pid};
	return;
}

# Query this fixture's daemon (see query_at): the reply, even in list context, so that
# reply_is($t->query(...), ...) works; query_raw also returns the raw bytes.
sub query
{
	my ($self, $name, $type, %o) = @_;
	return scalar query_at($self->{host}, $self->{port}, $name, $type, %o);
}

sub query_raw
{
	my ($self, $name, $type, %o) = @_;
	return query_at($self->{host}, $self->{port}, $name, $type, %o);
}

sub udp
{
	my ($self, $bytes, %o) = @_;
	return send_udp($self->{host}, $self->{port}, $bytes, %o);
}

sub tcp
{
	my ($self, $msgs, %o) = @_;
	return tcp_exchange($self->{host}, $self->{port}, $msgs, %o);
}

# ---------------------------------------------------------------------------------------------
# DNS.

# make_query(NAME, TYPE, %o) -> Net::DNS::Packet. The name keeps the letter case given.
# Options: class, id, rd (default 0), cd, ad, opcode, qr, edns => UDP size (adds an OPT),
# do => 1, edns_version => N.
sub make_query
{
	my ($name, $type, %o) = @_;
	my $p = Net::DNS::Packet->new($name, $type // 'A', $o{class} // 'IN');
	my $h = $p->header;
	$h->id($o{id}) if defined $o{id};
	$h->rd($o{rd} // 0);
	$h->cd(1) if $o{cd};
	$h->ad(1) if $o{ad};
	$h->opcode($o{opcode}) if defined $o{opcode};
	$h->qr(1) if $o{qr};
	if (defined $o{edns}) {
		$p->edns->size($o{edns});
		$p->edns->version($o{edns_version}) if defined $o{edns_version};
		$h->do(1) if $o{do};
	}
	return $p;
}

# query_at(HOST, PORT, NAME, TYPE, %o) -> the reply as a Net::DNS::Packet, or undef when no
# reply came (timeout) or the reply did not parse ($@ says why). tcp => 1 uses TCP; the other
# options are make_query's, plus timeout. In list context also returns the raw reply bytes.
sub query_at
{
	my ($host, $port, $name, $type, %o) = @_;
	my $q = $o{packet} // make_query($name, $type, %o);
	my $bytes = $q->data;
	my $raw;
	if ($o{tcp}) {
		($raw) = tcp_exchange($host, $port, [$bytes], %o);
	} else {
		$raw = send_udp($host, $port, $bytes, %o, match_id => $q->header->id);
	}
	return wantarray ? (undef, undef) : undef unless defined $raw;
	my $r = Net::DNS::Packet->new(\$raw);
	return wantarray ? ($r, $raw) : $r;
}

sub udp_socket
{
	my ($host, $port) = @_;
	return IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => 'udp')
		|| die "udp socket to $host:$port: $!";
}

# One datagram from $sock within $timeout seconds, or undef.
sub recv_udp
{
	my ($sock, $timeout) = @_;
	my $sel = IO::Select->new($sock);
	my $deadline = time() + $timeout;
	while (1) {
		my $left = $deadline - time();
		return undef if $left <= 0;
		my @r = $sel->can_read($left);
		next if !@r && $! == EINTR;
		return undef unless @r;
		my $buf;
		return $buf if defined $sock->recv($buf, 65535) && length $buf;
	}
}

# Send $bytes in one datagram and return the first reply (with match_id => ID: the first whose
# ID matches), or undef after the timeout.
sub send_udp
{
	my ($host, $port, $bytes, %o) = @_;
	my $sock = $o{sock} // udp_socket($host, $port);
	defined $sock->send($bytes) or die "send to $host:$port: $!";
	my $deadline = time() + ($o{timeout} // 10 * timeout_scale());
	while (1) {
		my $r = recv_udp($sock, $deadline - time());
		return undef unless defined $r;
		return $r unless defined $o{match_id};
		return $r if length($r) >= 2 && unpack('n', $r) == $o{match_id};
	}
}

sub read_exact
{
	my ($sock, $n, $deadline) = @_;
	my $buf = '';
	my $sel = IO::Select->new($sock);
	while (length($buf) < $n) {
		my $left = $deadline - time();
		return undef if $left <= 0;
		my @r = $sel->can_read($left);
		next if !@r && $! == EINTR;
		return undef unless @r;
		my $got = sysread($sock, $buf, $n - length($buf), length($buf));
		return undef unless $got; # EOF or error
	}
	return $buf;
}

# tcp_exchange(HOST, PORT, [msg, ...], %o): one connection; all messages are written at once,
# each with its 2-byte length (raw => 1: written as given), then up to `expect` (default: one
# per message) replies are read. Returns the list of reply payloads read before EOF/timeout.
sub tcp_exchange
{
	my ($host, $port, $msgs, %o) = @_;
	my $sock = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => 'tcp')
		or die "tcp connect $host:$port: $!";
	my $out = $o{raw} ? join('', @$msgs) : join('', map { pack('n', length $_) . $_ } @$msgs);
	my $off = 0;
	while ($off < length $out) {
		my $w = syswrite($sock, $out, length($out) - $off, $off);
		last unless defined $w; # the server may close on garbage
		$off += $w;
	}
	my $expect = $o{expect} // scalar @$msgs;
	my $deadline = time() + ($o{timeout} // 10 * timeout_scale());
	my @replies;
	while (@replies < $expect) {
		my $len = read_exact($sock, 2, $deadline);
		last unless defined $len;
		my $msg = read_exact($sock, unpack('n', $len), $deadline);
		last unless defined $msg;
		push @replies, $msg;
	}
	close $sock;
	return @replies;
}

# ---------------------------------------------------------------------------------------------
# Comparing answers.

# A comparable key for one RR: its canonical wire form (RFC 4034 section 6.2: owner and the
# names in the RDATA of the listed types lowercased, no compression), TTL included.
sub rr_key
{
	my ($rr) = @_;
	return unpack('H*', $rr->canonical);
}

# Keys of a section's RRs, OPT excluded, as a sorted list.
sub rr_keys
{
	my (@rrs) = @_;
	return sort map { rr_key($_) } grep { $_->type ne 'OPT' } @rrs;
}

# Compare two RR lists as sets. Returns '' when equal, else lines describing the difference.
sub section_diff
{
	my ($label, $got, $want) = @_;
	my (%g, %w);
	for (grep { $_->type ne 'OPT' } @$got) { $g{ rr_key($_) } = $_ }
	for (grep { $_->type ne 'OPT' } @$want) { $w{ rr_key($_) } = $_ }
	my @d;
	push @d, map { "  $label only in got:  " . $g{$_}->string } grep { !$w{$_} } sort keys %g;
	push @d, map { "  $label only in want: " . $w{$_}->string } grep { !$g{$_} } sort keys %w;
	# Duplicates in a section are an error on either side.
	push @d, "  $label: got has duplicate RRs" if keys(%g) != grep { $_->type ne 'OPT' } @$got;
	push @d, "  $label: want has duplicate RRs" if keys(%w) != grep { $_->type ne 'OPT' } @$want;
	return join("\n", @d);
}

# The records of a master file, parsed by Net::DNS (an implementation independent of ours), with
# $INCLUDE resolved relative to the file's directory.
sub read_zone
{
	my ($path, $origin) = @_;
	my $cwd = Cwd::getcwd();
	chdir(dirname($path)) or die "chdir " . dirname($path) . ": $!";
	my @rrs = eval { Net::DNS::ZoneFile->new(File::Basename::basename($path), $origin)->read };
	my $err = $@;
	chdir($cwd) or die "chdir $cwd: $!";
	die $err if $err;
	return @rrs;
}

# Group RRs into RRsets: { "lcowner|TYPE" => [rr, ...] }.
sub rrsets_of
{
	my (@rrs) = @_;
	my %sets;
	for my $rr (@rrs) {
		push @{ $sets{ lc($rr->owner) . '|' . $rr->type } }, $rr;
	}
	return \%sets;
}

# The RCODE of a reply, extended (with the OPT's upper bits) when there is an OPT.
sub rcode_of
{
	my ($p) = @_;
	return $p->header->rcode;
}

# RR objects from RR objects or presentation strings.
sub rrs
{
	return map { ref $_ ? $_ : Net::DNS::RR->new($_) } @_;
}

# Copies of the RRs with SOA serials set to 0: an import may bump the serial, which is checked
# on its own, so section comparisons do not depend on it.
sub no_serial
{
	return map {
		my $rr = $_;
		if ($rr->type eq 'SOA') {
			# rebuild with serial 0: Net::DNS's serial() only moves a serial forward
			$rr = Net::DNS::RR->new(owner => $rr->owner, ttl => $rr->ttl, type => 'SOA',
						mname => $rr->mname, rname => $rr->rname, serial => 0,
						refresh => $rr->refresh, retry => $rr->retry,
						expire => $rr->expire, minimum => $rr->minimum);
		}
		$rr;
	} @_;
}

# reply_is($reply, { rcode => 'NOERROR', aa => 1, tc => 0, answer => [...], authority => [...],
# additional => [...] }, $description): one subtest; keys that are absent are not checked, the
# sections are compared as sets (OPT left out, SOA serials ignored), with a diff on mismatch.
sub reply_is
{
	my ($p, $want, $desc) = @_;
	return Test::More::subtest($desc => sub {
		Test::More::ok(defined $p, 'a reply came') or return;
		my $h = $p->header;
		Test::More::ok($h->qr, 'QR is set');
		Test::More::is($h->rcode, $want->{rcode}, "RCODE $want->{rcode}") if $want->{rcode};
		for my $f (qw(aa tc)) {
			next unless exists $want->{$f};
			Test::More::is($h->$f ? 1 : 0, $want->{$f} ? 1 : 0,
				       uc($f) . ($want->{$f} ? ' set' : ' clear'));
		}
		for my $sec (qw(answer authority additional)) {
			next unless $want->{$sec};
			my $d = section_diff($sec, [ no_serial($p->$sec) ],
					     [ no_serial(rrs(@{ $want->{$sec} })) ]);
			Test::More::ok($d eq '', "$sec section as expected") or Test::More::diag($d);
		}
		$want->{extra}->($p) if $want->{extra};
	});
}

# ---------------------------------------------------------------------------------------------
# Backends for health checks: small servers forked by the test on loopback addresses, which log
# every connection they accept so that a test can count and time the checks.

push @EXPORT_OK, qw(fork_sub listen_tcp backend backend_log run_text);

# A run_cmd() result as text for diagnostics: exit status, stdout and stderr.
sub run_text
{
	my ($r) = @_;
	return "exit=$r->{exit}\nstdout: $r->{out}\nstderr: $r->{err}";
}

# $t->ctl_ok(WHAT, ARGS...): cutoverctl ARGS (as ctl()), one test named WHAT that it exits 0,
# with its output as diagnostics when it does not; returns the result.
sub ctl_ok
{
	my ($self, $what, @args) = @_;
	my $r = $self->ctl(@args);
	Test::More::is($r->{exit}, 0, $what)
		or Test::More::diag("cutoverctl @args\n" . run_text($r));
	return $r;
}

# fork_sub(CODE) -> pid: run CODE in a child with a process group of its own, stopped like
# spawn()'s children (stop_pid, and whatever is left at the end of the test). The child never
# runs the parent's END blocks or destructors (it leaves with _exit).
sub fork_sub
{
	my ($code) = @_;
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		setpgid(0, 0);
		set_pdeathsig();
		@SIG{qw(INT TERM)} = ('DEFAULT', 'DEFAULT');
		open(STDIN, '<', '/dev/null');
		eval { $code->() };
		print STDERR "fork_sub: $@" if $@;
		_exit($@ ? 1 : 0);
	}
	$LIVE{$pid} = { pgrp => 1 };
	return $pid;
}

# A listening TCP socket on ADDR:PORT (any 127.0.0.0/8 address binds on Linux), or undef with
# the reason in $!.
sub listen_tcp
{
	my ($addr, $port) = @_;
	return IO::Socket::IP->new(LocalHost => $addr, LocalPort => $port, Proto => 'tcp',
				   Listen => 1024, ReuseAddr => 1);
}

# backend(listen => [SOCKET...], log => FILE, mode => 'tcp' | 'http' | 'silent',
#         status => 200, body => TEXT, host => NAME) -> pid
# Serves on listening sockets the caller made (so the ports are bound before this returns; the
# parent's copies are closed here) until stopped with stop_pid. Every accepted connection
# appends one line "TIME ADDR:PORT" to FILE (TIME: Unix seconds with fraction; ADDR:PORT: the
# local end), then: tcp closes it; http reads the request head and answers `status` with
# `body` and Connection: close (400 when `host` is given and the Host header is another; with
# statuses => [S...], these in turn at each address), and appends " host=HOST path=PATH" to
# the line; silent holds it open and never answers.
sub backend
{
	my (%o) = @_;
	my @socks = @{ $o{listen} };
	my $pid = fork_sub(sub {
		open(my $log, '>>', $o{log}) or die "$o{log}: $!";
		my $sel = IO::Select->new(@socks);
		my (@held, %n);
		while (1) {
			my @ready = $sel->can_read(5);
			for my $l (@ready) {
				my $c = $l->accept or next;
				my $line = sprintf('%.6f %s:%d', time(), $c->sockhost,
						   $c->sockport);
				my $mode = $o{mode} // 'tcp';
				if ($mode eq 'silent') {
					push @held, $c;
					shift @held while @held > 500;
				} elsif ($mode eq 'http') {
					$line .= serve_http($c, \%o, $n{$l}++ // 0);
				}
				syswrite($log, "$line\n");
				close $c unless $mode eq 'silent';
			}
		}
	});
	close $_ for @socks;
	return $pid;
}

# One HTTP exchange for backend(): returns " host=HOST path=PATH" for its log line.
sub serve_http
{
	my ($c, $o, $n) = @_;
	my $req = '';
	my $sel = IO::Select->new($c);
	my $deadline = time() + 2;
	while ($req !~ /\r?\n\r?\n/ && length $req < 65536) {
		my $left = $deadline - time();
		last if $left <= 0 || !$sel->can_read($left);
		last unless sysread($c, $req, 4096, length $req);
	}
	my ($path) = $req =~ m{^[A-Z]+ (\S+) HTTP/} ? ($1) : ('-');
	my ($host) = $req =~ /^Host:[ \t]*([^\r\n]*?)[ \t]*\r?$/mi ? ($1) : ('-');
	my $status = $o->{statuses} ? $o->{statuses}[ $n % @{ $o->{statuses} } ] : $o->{status};
	my $body = $o->{body} // "ok\n";
	$status //= 200;
	($status, $body) = (400, "wrong Host: $host\n")
		if defined $o->{host} && lc $host ne lc $o->{host};
	my $resp = "HTTP/1.1 $status X\r\nContent-Type: text/plain\r\nContent-Length: "
		. length($body) . "\r\nConnection: close\r\n\r\n$body";
	syswrite($c, $resp);
	shutdown($c, 1);
	return " host=$host path=$path";
}

# The lines a backend logged: [[TIME, "ADDR:PORT", {host => ..., path => ...}], ...].
sub backend_log
{
	my ($file) = @_;
	my @r;
	for (split /\n/, slurp($file)) {
		my ($t, $at, @kv) = split / /;
		push @r, [ $t, $at, { map { split /=/, $_, 2 } @kv } ];
	}
	return \@r;
}

# ---------------------------------------------------------------------------------------------
# Raw messages, for malformed and hostile queries (tests/integration/hostile.t).

push @EXPORT_OK, qw(wire_header wire_name wire_question wire_opt junk_exchange raise_nofile);

# The 12-byte header: id, flags (the whole second word; or qr, opcode, rd), qd (default 1),
# an, ns, ar.
sub wire_header
{
	my (%h) = @_;
	my $flags = $h{flags} // ((($h{qr} // 0) << 15) | (($h{opcode} // 0) << 11) | ($h{rd} // 0));
	return pack('n6', $h{id} // 0x4242, $flags, $h{qd} // 1, $h{an} // 0, $h{ns} // 0,
		    $h{ar} // 0);
}

# A name in wire form without compression: "www.example.test" -> \3www\7example\4test\0.
sub wire_name
{
	my ($name) = @_;
	return join('', map { chr(length $_) . $_ } grep { length } split /\./, $name) . "\0";
}

# A question: name, type (default A) and class (default IN), by number.
sub wire_question
{
	my ($name, $type, $class) = @_;
	return wire_name($name) . pack('nn', $type // 1, $class // 1);
}

# An OPT record: owner (default the root), size (1232), ext_rcode, version, do, options as
# [[CODE, DATA], ...]; rdlen overrides the RDATA length written.
sub wire_opt
{
	my (%o) = @_;
	my $rdata = join('', map { pack('nn', $_->[0], length $_->[1]) . $_->[1] } @{ $o{options} // [] });
	my $ttl = (($o{ext_rcode} // 0) << 24) | (($o{version} // 0) << 16) | ($o{do} ? 0x8000 : 0);
	return ($o{owner} // "\0") . pack('nnNn', 41, $o{size} // 1232, $ttl, $o{rdlen} // length $rdata)
		. $rdata;
}

# junk_exchange(HOST, PORT, BYTES, tcp => 0|1, timeout => S): send BYTES, then a good query for
# www.example.test/A (ID 0x6060) on the same socket (UDP) or connection (TCP, each framed with
# its length; raw => 1 writes BYTES unframed), and read until the good query's reply.
# Returns { replies => [the raw replies before it], good => its Net::DNS::Packet or undef,
# closed => 1 when the server closed the TCP connection first }.
sub junk_exchange
{
	my ($host, $port, $bytes, %o) = @_;
	my $good = make_query('www.example.test', 'A', id => 0x6060)->data;
	my $deadline = time() + ($o{timeout} // 10 * timeout_scale());
	my %r = (replies => [], good => undef, closed => 0);
	my $is_good = sub { length($_[0]) >= 12 && unpack('n', $_[0]) == 0x6060 };
	if (!$o{tcp}) {
		my $sock = udp_socket($host, $port);
		$sock->send($bytes);
		$sock->send($good);
		while (defined(my $d = recv_udp($sock, $deadline - time()))) {
			if ($is_good->($d)) {
				$r{good} = Net::DNS::Packet->new(\$d);
				last;
			}
			push @{ $r{replies} }, $d;
		}
		return \%r;
	}
	my $sock = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Proto => 'tcp')
		or die "tcp connect $host:$port: $!";
	my $out = ($o{raw} ? $bytes : pack('n', length $bytes) . $bytes) . pack('n', length $good)
		. $good;
	local $SIG{PIPE} = 'IGNORE';
	syswrite($sock, $out);
	while (1) {
		my $len = read_exact($sock, 2, $deadline);
		my $msg = defined $len ? read_exact($sock, unpack('n', $len), $deadline) : undef;
		if (!defined $msg) {
			$r{closed} = 1 if time() < $deadline;
			last;
		}
		if ($is_good->($msg)) {
			$r{good} = Net::DNS::Packet->new(\$msg);
			last;
		}
		push @{ $r{replies} }, $msg;
	}
	close $sock;
	return \%r;
}

# Raise this process's soft limit on open files to at least N (within the hard limit, with
# util-linux's prlimit); returns the soft limit in force afterwards.
sub raise_nofile
{
	my ($n) = @_;
	my $cur = sub {
		my ($soft, $hard) = (`prlimit --pid $$ --nofile --raw --noheadings -o SOFT,HARD` // '')
			=~ /^\s*(\d+|unlimited)\s+(\d+|unlimited)/;
		return ($soft // 0, $hard // 0);
	};
	my ($soft, $hard) = $cur->();
	return $soft if $soft eq 'unlimited' || $soft >= $n;
	my $want = $hard eq 'unlimited' || $hard >= $n ? $n : $hard;
	system('prlimit', '--pid', $$, "--nofile=$want:$hard");
	return ($cur->())[0];
}

1;
