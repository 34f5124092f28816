#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# The health prober end to end: a real cutoverd and cutoverctl against real local backends that
# this test starts and kills (TCP listeners and HTTP servers forked from here, openssl s_server
# with a self-signed certificate), each target on its own loopback address. A dead target leaves
# the answers after `fall` failed checks in a row and returns after `rise`; HTTP status ranges,
# body text, Host header, timeouts, closed ports; TLS verification and --insecure; targets never
# checked count as up; an AAAA pool; fail-open and --all-down nodata; drain/undrain (also when
# failing open); the cutover gate; states kept across a restart; deleting a pool or a target
# stops its checks, also while the prober is busy writing; 1,000 targets checked by one thread,
# spread over the interval. Every wait is a bounded poll; detection times are printed (note),
# never asserted. Needs the openssl command for the HTTPS subtest (skipped without it).
use strict;
use warnings;

use JSON::PP ();
use POSIX ();
use Socket qw(AF_INET AF_INET6 inet_pton inet_ntop);
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverTest qw(zone_path timeout_scale slurp spawn stop_pid reap free_port run_cmd
		   run_text listen_tcp backend backend_log);

my $APEX = 'app.example';
my $SCALE = timeout_scale();
my $JSON = JSON::PP->new->canonical;

# Check timing of the functional subtests (the scale subtest has its own): short enough that a
# test takes seconds, long enough for a noisy 2-core machine (only waits depend on it).
my $IV = 300 * $SCALE;   # interval, ms
my $TO = 250 * $SCALE;   # timeout, ms
my @TIMING = ('--interval', "${IV}ms", '--timeout', "${TO}ms", '--rise', 2, '--fall', 2);
my $WAIT = 20 * $SCALE;  # the most any state change may take, s (generous: noisy machines)

# The record type of the pools the helpers look at (local'ized by the AAAA subtest).
our $TYPE = 'A';

my $t = CutoverTest->new(zones => [ zone_path($APEX) ], start => 1, threads => 2);
my $dir = $t->dir;

# ---------------------------------------------------------------------------------------------
# Helpers.

sub fqdn
{
	my ($label) = @_;
	return "$label.$APEX";
}

# cutoverctl recording this test as the actor; ctl_ok(WHAT, ARGS...) also passes one test named
# WHAT when it exits 0.
sub ctl
{
	return $t->ctl('--actor', 'health.t', @_);
}

sub ctl_ok
{
	my ($what, @args) = @_;
	return $t->ctl_ok($what, '--actor', 'health.t', @args);
}

# Poll $cond (a sub returning true when done) every $every seconds (default 0.05) for at most
# $limit seconds (default $WAIT); returns the seconds it took, or undef if it never became true.
sub wait_for
{
	my ($cond, $limit, $every) = @_;
	my $start = time();
	my $deadline = $start + ($limit // $WAIT);
	while (1) {
		return time() - $start if $cond->();
		return undef if time() >= $deadline;
		sleep($every // 0.05);
	}
}

# A port that is free on every address given (bound and released: each backend binds its own
# addresses just before it forks, so that no backend inherits another's listening socket).
sub port_for
{
	my (@addrs) = @_;
	for (1 .. 50) {
		my $port = free_port('127.0.0.1');
		my @s = grep { defined } map { listen_tcp($_, $port) } @addrs;
		return $port if @s == @addrs;
	}
	die "no port free on all of @addrs";
}

# Backends. serve(PORT, [ADDR...], mode => ..., ...) -> a handle; kill_backend(H) stops it (its
# addresses refuse connections from then on); revive(H) serves again on the same addresses
# and port, with the same options.
my $NBACK = 0;

sub serve
{
	my ($port, $addrs, %o) = @_;
	my $log = "$dir/backend-" . ++$NBACK . '.log';
	my $h = { port => $port, addrs => $addrs, opts => \%o, log => $log };
	return revive($h);
}

sub kill_backend
{
	my ($h) = @_;
	stop_pid($h->{pid}, grace => 5) if $h->{pid};
	$h->{pid} = undef;
	return;
}

sub revive
{
	my ($h) = @_;
	my @l;
	for my $a (@{ $h->{addrs} }) {
		my $s;
		wait_for(sub { $s = listen_tcp($a, $h->{port}) }, 5)
			or die "bind $a:$h->{port}: $!";
		push @l, $s;
	}
	$h->{pid} = backend(listen => \@l, log => $h->{log}, %{ $h->{opts} });
	return $h;
}

# The connections a backend accepted (on one address, or all of them).
sub accepts
{
	my ($h, $addr) = @_;
	my $log = backend_log($h->{log});
	return grep { !defined $addr || $_->[1] eq "$addr:$h->{port}" } @$log;
}

sub canon
{
	my ($a) = @_;
	my $fam = $a =~ /:/ ? AF_INET6 : AF_INET;
	return inet_ntop($fam, inet_pton($fam, $a) // die "bad address $a");
}

# One query (options: CutoverTest::query_at's): the sorted addresses answered ($TYPE), 'NODATA',
# or a word for what went wrong.
sub answer_of
{
	my ($name, %o) = @_;
	my $p = $t->query($name, $TYPE, %o);
	return 'no reply' unless $p;
	return $p->header->rcode unless $p->header->rcode eq 'NOERROR';
	return 'TC' if $p->header->tc;
	my @a = sort map { canon($_->address) } grep { $_->type eq $TYPE } $p->answer;
	return @a ? "@a" : 'NODATA';
}

# Wait until NAME answers exactly the addresses in $want (array ref; or 'NODATA'); one ok().
sub answers_become
{
	my ($name, $want, $desc) = @_;
	my $w = ref $want ? join(' ', sort @$want) : $want;
	my $got;
	my $took = wait_for(sub { ($got = answer_of($name)) eq $w });
	ok(defined $took, $desc) or diag("$name: last answer [$got], want [$w] (waited ${WAIT}s)");
	note(sprintf('%s: %.2f s', $desc, $took)) if defined $took;
	return $took;
}

# $n answers to NAME: { answer text => count }.
sub answer_tally
{
	my ($name, $n) = @_;
	my %c;
	$c{ answer_of($name) }++ for 1 .. $n;
	return \%c;
}

sub tally_text
{
	my ($c) = @_;
	return join(', ', map { "[$_] x $c->{$_}" } sort keys %$c);
}

# `status NAME --json` (every pool without NAME) as a Perl structure, or undef.
sub status_json
{
	my ($name) = @_;
	my $r = ctl('status', defined $name ? ($name) : (), '--type', $TYPE, '--json');
	return undef unless $r->{exit} == 0;
	return eval { $JSON->decode($r->{out}) };
}

# The health of every target of the $TYPE pool NAME: { ADDR => { state, since, last_check, error,
# drained, ... } } as status --json gives it (each group's "health" array). Without NAME: every
# pool's, keyed "NAME ADDR".
sub health
{
	my ($name) = @_;
	my $doc = status_json($name) or return {};
	my %h;
	for my $pool (@{ $doc->{pools} // [] }) {
		next unless ($pool->{type} // '') eq $TYPE;
		(my $pname = $pool->{name} // '') =~ s/\.$//;
		for my $g (@{ $pool->{groups} // [] }) {
			for my $tg (@{ $g->{health} // [] }) {
				my $addr = $tg->{address} // next;
				$h{ defined $name ? $addr : "$pname $addr" } = $tg;
			}
		}
	}
	return \%h;
}

sub state_of
{
	my ($name, $addr) = @_;
	my $h = health($name)->{$addr};
	return $h ? $h->{state} // 'no state' : 'no such target';
}

# Wait until each ADDR => STATE of %want holds for pool NAME; one ok().
sub states_become
{
	my ($name, $want, $desc) = @_;
	my $h;
	my $took = wait_for(sub {
		$h = health($name);
		!grep { ($h->{$_}{state} // '') ne $want->{$_} } keys %$want;
	});
	ok(defined $took, $desc) or diag("$name: " . join(', ', map {
		"$_ is " . ($h->{$_}{state} // 'absent') . " (want $want->{$_}"
		. (($h->{$_}{error} // '') ne '' ? "; last error: $h->{$_}{error}" : '')
		. ')' } sort keys %$want));
	note(sprintf('%s: %.2f s', $desc, $took)) if defined $took;
	return $took;
}

# Time fields of status --json as Unix seconds: numbers (ms when large) or ISO 8601 UTC.
sub unix_time
{
	my ($v) = @_;
	return undef unless defined $v;
	return $v > 1e11 ? $v / 1000 : $v if $v =~ /^\d+(\.\d+)?$/;
	my @f = $v =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?Z$/ or return undef;
	local $ENV{TZ} = 'UTC';
	POSIX::tzset();
	my $s = POSIX::mktime($f[5], $f[4], $f[3], $f[2], $f[1] - 1, $f[0] - 1900);
	return $s + ($f[6] // 0);
}

# The health transition lines cutoverd logged for NAME/$TYPE's target ADDR: [old, new, reason].
sub transitions
{
	my ($name, $addr) = @_;
	my @r;
	my $re = qr/\bhealth pool=\Q$name\E\.?\/$TYPE target=\Q$addr\E/;
	$re = qr/$re old=(\S+) new=(\S+) reason="([^"]*)"/;
	for (split /\n/, $t->stderr_text) {
		push @r, [ $1, $2, $3 ] if /$re/;
	}
	return @r;
}

sub has_transition
{
	my ($name, $addr, $old, $new, $desc) = @_;
	my @tr = transitions($name, $addr);
	# The log line is written when the state changes, before the next poll of ours can see it
	# in the database, so no wait is needed; a short one guards against stderr buffering.
	my $match = sub { grep { $_->[0] eq $old && $_->[1] eq $new } @tr };
	wait_for(sub { @tr = transitions($name, $addr); $match->() }, 5 * $SCALE);
	my ($hit) = $match->();
	ok($hit && $hit->[2] ne '', $desc)
		or diag("transitions logged for $name $addr: "
			. (join('; ', map { "$_->[0] -> $_->[1] ($_->[2])" } @tr) || 'none'));
	return $hit;
}

my $net = 0;
# Distinct loopback addresses for one subtest: 127.0.1.x, .2.x, ... (127.0.0.1 is cutoverd's).
sub addrs
{
	my ($n) = @_;
	$net++;
	return map { "127.0.$net.$_" } 1 .. $n;
}

# ---------------------------------------------------------------------------------------------

subtest 'TCP check: a dead backend leaves the answers after fall failures, back after rise' => sub {
	my ($b1, $b2, $g1, $g2) = addrs(4);
	my $port = port_for($b1, $b2, $g1, $g2);
	my $rest = serve($port, [ $b1, $b2, $g2 ]);
	my $green1 = serve($port, [$g1]);
	my $name = fqdn('tcp');
	ctl_ok('pool set with a TCP check', 'pool', 'set', $name, '--group', "blue=$b1,$b2",
	       '--group', "green=$g1,$g2", '--check', "tcp:$port", @TIMING);
	states_become($name, { map { ($_ => 'up') } $b1, $b2, $g1, $g2 }, 'every target comes up');
	ok(accepts($green1, $g1) >= 2, "green's backend saw the checks at $g1:$port");
	ctl_ok('cutover to green', 'cutover', $name, 'green');
	is(answer_of($name), join(' ', sort $g1, $g2), 'green answers with both targets');

	my $killed = time();
	kill_backend($green1);
	answers_become($name, [$g2], "$g1 leaves the answers after its backend died");
	my $h = health($name)->{$g1} // {};
	is($h->{state}, 'down', "status: $g1 down");
	like($h->{error} // '', qr/refused/i, 'status: the last error says: connection refused')
		or diag("last_error: " . ($h->{error} // 'absent'));
	my $since = unix_time($h->{since_ms});
	ok(defined $since && $since >= $killed - 0.01 && $since <= time() + 0.01,
	   'status: down since a time after the backend died')
		or diag('since_ms: ' . ($h->{since_ms} // 'absent') . ", killed at $killed");
	my $iso = unix_time($h->{since});
	ok(defined $iso && defined $since && abs($iso - $since) < 1, 'status: since, ISO 8601')
		or diag('since: ' . ($h->{since} // 'absent'));
	my $last = unix_time($h->{last_check_ms});
	ok(defined $last && defined $since && $last >= $since, 'status: last check >= since')
		or diag('last_check_ms: ' . ($h->{last_check_ms} // 'absent'));
	is($h->{drained} ? 1 : 0, 0, 'status: not drained');
	is(state_of($name, $_), 'up', "status: $_ still up") for $b1, $b2, $g2;
	has_transition($name, $g1, 'up', 'down', "cutoverd's stderr: $g1 up -> down with a reason");

	my $tally = answer_tally($name, 50);
	is_deeply($tally, { $g2 => 50 }, "50 answers: $g1 in none of them")
		or diag(tally_text($tally));

	revive($green1);
	answers_become($name, [ $g1, $g2 ], "$g1 returns once its backend serves again");
	$h = health($name)->{$g1} // {};
	is($h->{state}, 'up', "status: $g1 up again");
	is($h->{error} // '', '', 'status: no last error after a passing check');
	has_transition($name, $g1, 'down', 'up', "cutoverd's stderr: $g1 down -> up");
	my @down = grep { $_->[1] eq 'down' } map { transitions($name, $_) } $b1, $b2, $g2;
	is(scalar(@down), 0, 'no other target was ever logged down');
};

subtest 'fall and rise count checks in a row: a flapping backend never changes state' => sub {
	my ($a1, $a2) = addrs(2);
	my $port = port_for($a1, $a2);
	my $steady = serve($port, [$a2], mode => 'http');
	my $flap = serve($port, [$a1], mode => 'http', statuses => [ 200, 500 ]);
	my $name = fqdn('flap');
	ctl_ok('pool set with an HTTP check, rise 2, fall 2', 'pool', 'set', $name, '--group',
	       "blue=$a1,$a2", '--check', "http:$port/", @TIMING);
	states_become($name, { $a2 => 'up' }, 'the steady target comes up');
	# 200, 500, 200, 500...: never two failures (or successes) in a row.
	ok(defined wait_for(sub { accepts($flap) >= 12 }), '12 checks of the flapping backend')
		or diag(scalar(accepts($flap)) . ' checks');
	my $st = state_of($name, $a1);
	isnt($st, 'down', "alternating pass/fail: $a1 is not down ($st)");
	my @tr = grep { $_->[1] eq 'down' } transitions($name, $a1);
	is(scalar(@tr), 0, "no down transition logged for $a1");
	my $tally = answer_tally($name, 20);
	is_deeply($tally, { "$a1 $a2" => 20 }, 'both targets in every answer')
		or diag(tally_text($tally));
	ctl_ok('pool delete', 'pool', 'delete', $name);
	kill_backend($_) for $steady, $flap;
};

subtest 'HTTP check: status, body text, timeout and closed port; path and Host sent' => sub {
	my ($ok, $s500, $nobody, $silent, $closed) = addrs(5);
	my $port = port_for($ok, $s500, $nobody, $silent);
	my @b = (
		serve($port, [$ok], mode => 'http', body => "all healthy\n"),
		serve($port, [$s500], mode => 'http', status => 500, body => "healthy\n"),
		serve($port, [$nobody], mode => 'http', body => "busy\n"),
		serve($port, [$silent], mode => 'silent'),
	);
	my $name = fqdn('web');
	ctl_ok('pool set with an HTTP check and a body text', 'pool', 'set', $name, '--group',
	       "blue=$ok,$s500,$nobody,$silent,$closed", '--check', "http:$port/health",
	       '--expect-body', 'healthy', @TIMING);
	states_become($name, { $ok => 'up', $s500 => 'down', $nobody => 'down', $silent => 'down',
			       $closed => 'down' }, 'only the 200 answer with the text is up');
	answers_become($name, [$ok], 'only that target is answered');
	my $h = health($name);
	like($h->{$s500}{error} // '', qr/500/, "500: the last error names the status")
		or diag('last_error: ' . ($h->{$s500}{error} // 'absent'));
	like($h->{$nobody}{error} // '', qr/body|healthy/i, 'body without the text: error says so')
		or diag('last_error: ' . ($h->{$nobody}{error} // 'absent'));
	like($h->{$silent}{error} // '', qr/time/i, 'no reply: the last error is a timeout')
		or diag('last_error: ' . ($h->{$silent}{error} // 'absent'));
	like($h->{$closed}{error} // '', qr/refused/i, 'closed port: connection refused')
		or diag('last_error: ' . ($h->{$closed}{error} // 'absent'));
	my ($req) = accepts($b[0]);
	is($req->[2]{path}, '/health', 'the backend was asked for /health');
	like($req->[2]{host}, qr/^\Q$ok\E(:$port)?$/, "Host: the target's address by default")
		or diag("Host: $req->[2]{host}");
	has_transition($name, $s500, 'unknown', 'down', "stderr: the 500 target is down");

	# The body text comes back: the target returns.
	kill_backend($b[2]);
	$b[2]{opts}{body} = "healthy again\n";
	revive($b[2]);
	answers_become($name, [ $ok, $nobody ], 'the backend that now has the text comes back');
	ctl_ok('pool delete', 'pool', 'delete', $name);
	kill_backend($_) for @b;
};

subtest 'HTTP check: --expect-status ranges' => sub {
	my ($s204, $s302, $s404) = addrs(3);
	my $port = port_for($s204, $s302, $s404);
	my @b = (serve($port, [$s204], mode => 'http', status => 204, body => ''),
		 serve($port, [$s302], mode => 'http', status => 302),
		 serve($port, [$s404], mode => 'http', status => 404));
	my $name = fqdn('codes');
	my @pool = ('pool', 'set', $name, '--group', "blue=$s204,$s302,$s404", '--check',
		    "http:$port/", @TIMING);
	ctl_ok('--expect-status 200-299', @pool, '--expect-status', '200-299');
	states_become($name, { $s204 => 'up', $s302 => 'down', $s404 => 'down' },
		      '200-299: 204 up, 302 and 404 down');
	answers_become($name, [$s204], '200-299: only 204 answered');
	ctl_ok('--expect-status 300-404', @pool, '--expect-status', '300-404');
	states_become($name, { $s204 => 'down', $s302 => 'up', $s404 => 'up' },
		      '300-404: 204 down, 302 and 404 up');
	answers_become($name, [ $s302, $s404 ], '300-404: 302 and 404 answered');
	ctl_ok('pool delete', 'pool', 'delete', $name);
	kill_backend($_) for @b;
};

subtest 'HTTP check: --check-host sets the Host header' => sub {
	my ($a1, $a2) = addrs(2);
	my $port = port_for($a1, $a2);
	# Both backends answer 400 unless Host is app.internal.
	my $b = serve($port, [ $a1, $a2 ], mode => 'http', host => 'app.internal');
	my $name = fqdn('vhost');
	my @pool = ('pool', 'set', $name, '--group', "blue=$a1,$a2", '--check', "http:$port/ping",
		    @TIMING);
	ctl_ok('without --check-host', @pool);
	states_become($name, { $a1 => 'down', $a2 => 'down' }, 'Host is the address: 400, down');
	ctl_ok('with --check-host app.internal', @pool, '--check-host', 'app.internal');
	states_become($name, { $a1 => 'up', $a2 => 'up' }, 'Host app.internal: up');
	my @last = (accepts($b))[-2, -1];
	is_deeply([ map { $_->[2]{host} } @last ], [ 'app.internal', 'app.internal' ],
		  'the backend saw Host: app.internal');
	ctl_ok('pool delete', 'pool', 'delete', $name);
	kill_backend($b);
};

subtest 'HTTPS check: a self-signed certificate fails verification; --insecure accepts it' => sub {
	my ($openssl) = grep { -x } map { "$_/openssl" } split /:/, $ENV{PATH};
	plan skip_all => 'no openssl command (Debian package openssl)' unless $openssl;
	my ($a1, $a2) = addrs(2); # a2: nothing listens
	my ($cert, $key) = ("$dir/cert.pem", "$dir/key.pem");
	my $r = run_cmd([ $openssl, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj',
			  '/CN=localhost', '-days', '1', '-keyout', $key, '-out', $cert ]);
	is($r->{exit}, 0, 'a self-signed certificate for CN=localhost')
		or return diag(run_text($r));
	my ($pid, $port);
	for my $try (1 .. 5) {
		$port = free_port('127.0.0.1');
		my $out = "$dir/s_server.$try.out";
		$pid = spawn(cmd => [ $openssl, 's_server', '-accept', "$a1:$port", '-cert', $cert,
				      '-key', $key, '-www' ], stdout => $out, stderr => "$out.err");
		my $ready = sub { slurp($out) =~ /^ACCEPT/m };
		last if wait_for(sub { $ready->() || defined reap($pid, 0) }, 10 * $SCALE)
			&& $ready->();
		stop_pid($pid, grace => 2);
		$pid = undef;
	}
	ok($pid, "openssl s_server -www serves on $a1") or return;
	my $name = fqdn('tls');
	my @pool = ('pool', 'set', $name, '--group', "blue=$a1,$a2", '--check', "https:$port/",
		    @TIMING, '--all-down', 'nodata');
	ctl_ok('pool set with an HTTPS check (verification on)', @pool);
	states_become($name, { $a1 => 'down', $a2 => 'down' },
		      'down: the certificate is not trusted');
	my $h = health($name);
	like($h->{$a1}{error} // '', qr/certificate/i, 'status: a certificate error')
		or diag('error: ' . ($h->{$a1}{error} // 'absent'));
	like($h->{$a2}{error} // '', qr/refused/i, 'status: connection refused for the closed port')
		or diag('error: ' . ($h->{$a2}{error} // 'absent'));
	answers_become($name, 'NODATA', '--all-down nodata: NODATA while it is down');
	ctl_ok('pool set with --insecure', @pool, '--insecure');
	states_become($name, { $a1 => 'up', $a2 => 'down' }, '--insecure: up');
	is(health($name)->{$a1}{error} // '', '', 'status: no last error');
	answers_become($name, [$a1], 'answered again');
	ctl_ok('pool delete', 'pool', 'delete', $name);
	stop_pid($pid, grace => 5);
};

subtest 'a target never checked counts as up; a check that hangs ends in a timeout' => sub {
	my ($n1, $n2) = addrs(2);
	my $port = port_for($n1, $n2);
	my @b = (serve($port, [$n1], mode => 'silent'), serve($port, [$n2], mode => 'http'));
	my $name = fqdn('fresh');
	# n1's first check cannot end before its timeout: 3 s after the pool is set at the soonest.
	my $iv = 3000 * $SCALE;
	ctl_ok('pool set: interval and timeout 3 s, fall 1', 'pool', 'set', $name, '--group',
	       "blue=$n1,$n2", '--check', "http:$port/", '--interval', "${iv}ms", '--timeout',
	       "${iv}ms", '--fall', 1);
	is(state_of($name, $n1), 'unknown', "status: $n1 unknown before its first check ends");
	like(answer_of($name), qr/^\Q$n1\E /, "and answered");
	states_become($name, { $n1 => 'down', $n2 => 'up' }, "$n1 times out, $n2 passes");
	like(health($name)->{$n1}{error} // '', qr/time/i, 'the last error is a timeout')
		or diag('error: ' . (health($name)->{$n1}{error} // 'absent'));
	answers_become($name, [$n2], "$n1 leaves the answers");
	ctl_ok('pool delete', 'pool', 'delete', $name);
	kill_backend($_) for @b;
};

subtest 'AAAA pool: checks over IPv6' => sub {
	plan skip_all => 'no IPv6 loopback (::1)' unless listen_tcp('::1', 0);
	local $TYPE = 'AAAA';
	my ($up, $gone) = ('::1', '2001:db8:ffff::1'); # a documentation address: nothing answers
	my $port = port_for($up);
	my $b = serve($port, [$up]);
	my $name = fqdn('six');
	ctl_ok('pool set --type AAAA with a TCP check', 'pool', 'set', $name, '--type', 'AAAA',
	       '--group', "blue=$up,$gone", '--check', "tcp:$port", @TIMING);
	states_become($name, { $up => 'up', $gone => 'down' }, "$up up, $gone down");
	answers_become($name, [$up], "AAAA answers hold $up only");
	ok(accepts($b) >= 2, "the backend at [$up]:$port saw the checks");
	has_transition($name, $gone, 'unknown', 'down', "stderr: pool=NAME/AAAA, $gone down");
	ctl_ok('pool delete', 'pool', 'delete', $name, '--type', 'AAAA');
	kill_backend($b);
};

subtest 'fail-open: every target down still answers all of them; --all-down nodata: NODATA' => sub {
	my ($b1, $b2, $g1) = addrs(3);
	my $port = port_for($b1, $b2, $g1); # released at once: nothing listens
	my $name = fqdn('open');
	my @pool = ('pool', 'set', $name, '--group', "blue=$b1,$b2", '--group', "green=$g1",
		    '--check', "tcp:$port", @TIMING);
	ctl_ok('pool set: no target has a backend', @pool);
	states_become($name, { $b1 => 'down', $b2 => 'down', $g1 => 'down' }, 'every target down');
	my $tally = answer_tally($name, 30);
	is_deeply($tally, { "$b1 $b2" => 30 }, "fail-open (default): blue's targets, all of them")
		or diag(tally_text($tally));
	is(answer_of(fqdn('green.open')), $g1, "fail-open: green's preview name answers it");
	my $doc = status_json($name);
	is($doc && $doc->{pools}[0]{answering}, 'fail-open', 'status --json: "fail-open"');
	my $st = ctl('status', $name);
	like($st->{out}, qr/fails? open/i, 'status says the pool fails open')
		or diag(run_text($st));

	ctl_ok('--all-down serve-all is the same', @pool, '--all-down', 'serve-all');
	is(answer_of($name), "$b1 $b2", 'serve-all: all of them');
	ctl_ok('--all-down nodata', @pool, '--all-down', 'nodata');
	$doc = status_json($name);
	is($doc && $doc->{pools}[0]{answering}, 'nodata', 'status --json: answering "nodata"');
	my $p = $t->query($name, 'A');
	ok($p && $p->header->rcode eq 'NOERROR' && $p->header->aa && !$p->answer
	   && grep({ $_->type eq 'SOA' } $p->authority), 'nodata: NOERROR, AA, no answer, the SOA')
		or diag($p ? $p->string : 'no reply');
	my $b = serve($port, [$b2]);
	answers_become($name, [$b2], 'one target back: answered alone (nodata)');
	ctl_ok('pool delete', 'pool', 'delete', $name);
	kill_backend($b);
};

subtest 'drain/undrain: a drained target never appears in answers, whatever its checks say' => sub {
	my ($d1, $d2, $d3, $x1) = addrs(4);
	my $port = port_for($d1, $d2, $d3, $x1);
	my %b = map { ($_ => serve($port, [$_])) } $d1, $d2, $d3, $x1;
	my ($name, $other, $plain) = (fqdn('drain'), fqdn('drain2'), fqdn('drain3'));
	ctl_ok('pool set drain', 'pool', 'set', $name, '--group', "blue=$d1,$d2,$d3", '--check',
	       "tcp:$port", @TIMING);
	ctl_ok('pool set drain2 (shares d2)', 'pool', 'set', $other, '--group', "blue=$d2,$x1",
	       '--check', "tcp:$port", @TIMING);
	ctl_ok('pool set drain3 (shares d2, no check)', 'pool', 'set', $plain, '--group',
	       "blue=$d2,$x1");
	states_become($name, { $d1 => 'up', $d2 => 'up', $d3 => 'up' }, 'all up');

	ctl_ok("drain $d2 --pool drain", 'drain', $d2, '--pool', $name);
	answers_become($name, [ $d1, $d3 ], "$d2 leaves drain's answers");
	my $tally = answer_tally($name, 200);
	is_deeply($tally, { "$d1 $d3" => 200 }, "200 answers: $d2 in none, although it is up")
		or diag(tally_text($tally));
	is(answer_of(fqdn('blue.drain')), "$d1 $d3", "nor under blue's preview name");
	my $h = health($name)->{$d2} // {};
	ok($h->{drained}, 'status: drained');
	is($h->{state}, 'up', 'status: its checks still pass');
	is(answer_of($other), "$d2 $x1", '--pool: the other pool still answers it');

	ctl_ok("undrain $d2", 'undrain', $d2);
	answers_become($name, [ $d1, $d2, $d3 ], 'undrain brings it back');
	ok(!health($name)->{$d2}{drained}, 'status: not drained');

	ctl_ok("drain $d2 (every pool)", 'drain', $d2);
	answers_become($_, [$x1], "drain without --pool: $d2 leaves $_") for $other, $plain;
	is(answer_of($name), "$d1 $d3", "and stays out of $name");

	# Every other target down: fail-open answers the down targets, never the drained one.
	kill_backend($b{$d1});
	kill_backend($b{$d3});
	states_become($name, { $d1 => 'down', $d3 => 'down' }, 'the undrained targets are down');
	$tally = answer_tally($name, 50);
	ok(!grep({ /\Q$d2\E/ } keys %$tally), "fail-open does not bring the drained $d2 back")
		or diag(tally_text($tally));
	is(answer_of(fqdn('blue.drain')) =~ /\Q$d2\E/ ? 1 : 0, 0,
	   "nor does blue's preview name, its group being all down");

	my $hist = ctl('history', $name);
	like($hist->{out}, qr/\bdrain\b/, 'history records the drain');
	like($hist->{out}, qr/\bundrain\b/, 'and the undrain');
	ctl_ok("undrain $d2", 'undrain', $d2);
	answers_become($plain, [ $d2, $x1 ], "undrain: back in drain3");
	ctl_ok('pool delete', 'pool', 'delete', $_) for $name, $other, $plain;
	kill_backend($_) for values %b;
};

subtest 'cutover gate: refused onto a group without healthy targets unless --force' => sub {
	my ($b1, $g1, $g2) = addrs(3);
	my $port = port_for($b1, $g1, $g2);
	my $bb = serve($port, [$b1]);
	my $name = fqdn('gate');
	ctl_ok('pool set', 'pool', 'set', $name, '--group', "blue=$b1", '--group', "green=$g1,$g2",
	       '--check', "tcp:$port", @TIMING);
	states_become($name, { $b1 => 'up', $g1 => 'down', $g2 => 'down' }, 'green is all down');
	my $r = ctl('cutover', $name, 'green');
	isnt($r->{exit}, 0, 'cutover to green is refused');
	like($r->{err} . $r->{out}, qr/health|down|healthy/i, 'and says why') or diag(run_text($r));
	is(answer_of($name), $b1, 'blue still answers');
	ctl_ok('cutover --force', 'cutover', $name, 'green', '--force');
	# green all down, blue up at weight 0: what is answered is selection's business; green's
	# targets are not live, so whatever is answered, no error.
	ok(answer_of($name) ne 'no reply', 'answered after the forced cutover');
	$r = ctl('cutover', $name, 'blue', '--min-healthy', 2);
	isnt($r->{exit}, 0, 'cutover to blue with --min-healthy 2 (it has 1) is refused')
		or diag(run_text($r));
	ctl_ok('cutover to blue (1 healthy)', 'cutover', $name, 'blue');
	is(answer_of($name), $b1, 'blue answers');
	ctl_ok('pool delete', 'pool', 'delete', $name);
	kill_backend($bb);
};

subtest 'restart: persisted states answer from the first query; checks resume at once' => sub {
	my ($r1, $r2, $r3) = addrs(3);
	my $port = port_for($r1, $r2, $r3);
	my $b1 = serve($port, [$r1]);
	my $b2 = serve($port, [ $r2, $r3 ]);
	my $name = fqdn('restart');
	ctl_ok('pool set', 'pool', 'set', $name, '--group', "blue=$r1,$r2,$r3", '--check',
	       "tcp:$port", @TIMING);
	states_become($name, { $r1 => 'up', $r2 => 'up', $r3 => 'up' }, 'all up');
	ctl_ok("drain $r3", 'drain', $r3);
	kill_backend($b1);
	answers_become($name, [$r2], "$r1 down, $r3 drained");
	ok(defined $t->stop, 'cutoverd stops on SIGTERM');
	is(state_of($name, $r1), 'down', "while cutoverd is stopped, status says $r1 is down");
	my $restart = time();
	ok($t->start(threads => 2), 'cutoverd starts again') or return diag($t->stderr_text);
	is(answer_of($name), $r2, "the very first query after the restart leaves $r1 and $r3 out");
	# No query is needed for the checks to start.
	ok(defined wait_for(sub { grep { $_->[0] >= $restart } accepts($b2) }),
	   "$r2 is checked again after the restart");
	revive($b1);
	answers_become($name, [ $r1, $r2 ], "$r1 returns once its backend serves again");
	has_transition($name, $r1, 'down', 'up', "cutoverd's stderr (the new run): $r1 down -> up");
	ctl_ok("undrain $r3", 'undrain', $r3);
	answers_become($name, [ $r1, $r2, $r3 ], "$r3 is back too");
	ctl_ok('pool delete', 'pool', 'delete', $name);
	kill_backend($_) for $b1, $b2;
};

# Wait until the backend's accept count stays put for $quiet seconds; true when it did.
sub checks_stop
{
	my ($h, $addr, $quiet) = @_;
	my ($n, $at) = (-1, time());
	return defined wait_for(sub {
		my $c = accepts($h, $addr);
		($n, $at) = ($c, time()) if $c != $n;
		time() - $at >= $quiet;
	});
}

subtest 'deleting a pool or a target stops its checks' => sub {
	my ($a1, $a2, $a3) = addrs(3);
	my $port = port_for($a1, $a2, $a3);
	my $b = serve($port, [ $a1, $a2, $a3 ]);
	my ($name, $other) = (fqdn('del'), fqdn('del2'));
	ctl_ok('pool set del', 'pool', 'set', $name, '--group', "blue=$a1", '--check', "tcp:$port",
	       @TIMING);
	ctl_ok('pool set del2', 'pool', 'set', $other, '--group', "blue=$a2,$a3", '--check',
	       "tcp:$port", @TIMING);
	ok(defined wait_for(sub { accepts($b, $a1) >= 3 && accepts($b, $a3) >= 3 }),
	   'checks arrive');
	ctl_ok('pool delete del', 'pool', 'delete', $name);
	ctl_ok('pool set del2 without a3', 'pool', 'set', $other, '--group', "blue=$a2", '--check',
	       "tcp:$port", @TIMING);
	my $quiet = 5 * $IV / 1000; # five intervals without a check
	ok(checks_stop($b, $a1, $quiet), "no more checks of $a1 (pool deleted)");
	ok(checks_stop($b, $a3, $quiet), "no more checks of $a3 (target removed)");
	my ($n1, $n3, $n2) = map { scalar accepts($b, $_) } $a1, $a3, $a2;
	ok(defined wait_for(sub { accepts($b, $a2) >= $n2 + 3 }), "$a2 is still checked");
	is(scalar(accepts($b, $a1)), $n1, "meanwhile $a1 got no check");
	is(scalar(accepts($b, $a3)), $n3, "nor $a3");
	ctl_ok('pool delete del2', 'pool', 'delete', $other);
	kill_backend($b);
};

subtest 'pool changes reach the prober while it is writing state changes' => sub {
	# Ten flapping targets (200, 500, 200... with rise 1 and fall 1): the prober writes a state
	# change nearly every 100 ms. Each pool created or deleted meanwhile must still be seen:
	# nothing else is written until it is (status and DNS queries only read).
	my @flap = addrs(10);
	my @new = addrs(6);
	my $port = port_for(@flap, @new);
	my @b = (serve($port, \@flap, mode => 'http', statuses => [ 200, 500 ]),
		 serve($port, \@new, mode => 'http'));
	my $busy = fqdn('busy');
	ctl_ok('a pool of 10 flapping targets', 'pool', 'set', $busy, '--group',
	       'blue=' . join(',', @flap), '--check', "http:$port/", '--interval', "${IV}ms",
	       '--timeout', "${TO}ms", '--rise', 1, '--fall', 1);
	ok(defined wait_for(sub { grep { $_->[1] eq 'down' } transitions($busy, $flap[0]) }),
	   'the flapping targets change state');
	my (@unseen, @undeleted);
	for my $i (0 .. $#new) {
		my $name = fqdn("new$i");
		my $r = ctl('pool', 'set', $name, '--group', "blue=$new[$i]", '--check',
			    "http:$port/", @TIMING);
		is($r->{exit}, 0, "pool set new$i") or diag(run_text($r));
		my $seen = wait_for(sub { state_of($name, $new[$i]) eq 'up' }, 5 * $SCALE);
		push @unseen, "new$i" unless defined $seen;
		$r = ctl('pool', 'delete', $name);
		is($r->{exit}, 0, "pool delete new$i") or diag(run_text($r));
		push @undeleted, "new$i" unless checks_stop($b[1], $new[$i], 4 * $IV / 1000);
	}
	is("@unseen", '', 'every new pool is checked (and up) within 5 s of its creation');
	is("@undeleted", '', 'the checks of every deleted pool stop');
	ctl_ok('pool delete busy', 'pool', 'delete', $busy);
	kill_backend($_) for @b;
};

subtest 'scale: 1,000 targets (20 pools x 50) checked by one thread, spread in time' => sub {
	# A load test: under a wrapper (valgrind) cutoverd runs 20 to 50 times slower and cannot
	# keep up with 1,000 checks a second; the other subtests run the same code.
	plan(skip_all => 'a load test, not run under $CT_TEST_WRAPPER')
		if ($ENV{CT_TEST_WRAPPER} // '') =~ /\S/;
	my @addr = map { "127.0.200.$_" } 1 .. 50;
	my $port = port_for(@addr);
	my $last = $addr[-1];
	my $most = serve($port, [ @addr[ 0 .. 48 ] ]);
	my $one = serve($port, [$last]);
	my @pools = map { fqdn(sprintf('scale%02d', $_)) } 1 .. 20;
	my $ok = 0;
	for my $p (@pools) {
		my $r = ctl('pool', 'set', $p, '--group', 'blue=' . join(',', @addr), '--check',
			    "tcp:$port", '--interval', '1s', '--timeout', 500 * $SCALE . 'ms',
			    '--rise', 2, '--fall', 2);
		$ok++ if $r->{exit} == 0;
		diag(run_text($r)) if $r->{exit} != 0 && $ok == 0;
	}
	is($ok, 20, '20 pools of 50 targets with a TCP check every second');

	my $h;
	my $took = wait_for(sub {
		$h = health();
		(grep { $_->{state} eq 'up' } map { $h->{$_} } grep { /^scale/ } keys %$h) == 1000;
	}, 30 * $SCALE, 0.5); # (a status of 1,000 targets is much work for a 2-core machine)
	ok(defined $took, 'all 1,000 targets up')
		or diag(scalar(grep { /^scale/ && $h->{$_}{state} eq 'up' } keys %$h) . ' up');
	note(sprintf('1,000 targets up after %.1f s', $took)) if defined $took;

	# Spread: the accepts of two steady seconds, in 100 ms slots. Fired all at once they would
	# fill one or two slots; spread, every slot gets a share. Loose: no slot over a third.
	my $from = time();
	wait_for(sub { time() - $from >= 2 }, 5);
	my @ts = map { $_->[0] } grep { $_->[0] >= $from && $_->[0] < $from + 2 } accepts($most);
	my %slot;
	$slot{ int(($_ - $from) * 10) }++ for @ts;
	my ($max) = sort { $b <=> $a } values %slot;
	note(sprintf('%d checks in 2 s over %d slots of 100 ms, the busiest with %d', scalar @ts,
		     scalar keys %slot, $max // 0));
	ok(@ts >= 980, '980 checks a second are due at the 49 addresses: at least half arrived')
		or diag(scalar(@ts) . ' checks in 2 s');
	ok(keys %slot >= 10 && ($max // 0) <= @ts / 3, 'the checks are spread over the interval')
		or diag(join(' ', map { "$_:$slot{$_}" } sort { $a <=> $b } keys %slot));

	kill_backend($one);
	my @down;
	$took = wait_for(sub {
		$h = health();
		@down = grep { /^scale/ && $h->{$_}{state} eq 'down' } keys %$h;
		@down >= 20;
	}, 30 * $SCALE, 0.5);
	ok(defined $took, "$last goes down in all 20 pools") or diag(scalar(@down) . ' down');
	note(sprintf('20 targets down after %.1f s', $took)) if defined $took;
	# A little longer: nothing else follows.
	wait_for(sub { 0 }, 2 * $SCALE);
	$h = health();
	@down = sort grep { /^scale/ && $h->{$_}{state} ne 'up' } keys %$h;
	is_deeply(\@down, [ map { "$_ $last" } @pools ], "exactly ${last}'s 20 targets are not up")
		or diag(join(', ', @down[ 0 .. ($#down < 9 ? $#down : 9) ]));

	# DNS stays responsive: 200 queries while 1,000 targets are checked, each answered.
	my ($answered, $right) = (0, 0);
	for my $i (0 .. 199) {
		my $a = answer_of($pools[ $i % 20 ], edns => 1232); # 49 A records: 800 bytes
		$answered++ unless $a eq 'no reply';
		$right++ if $a eq join(' ', sort @addr[ 0 .. 48 ]);
	}
	is($answered, 200, '200 queries during the checks: all answered');
	is($right, 200, "each with the 49 live targets and without $last");
	ctl('pool', 'delete', $_) for @pools;
	kill_backend($most);
};

ok($t->running, 'cutoverd is still running');
# Both runs of cutoverd (before and after the restart).
my $err = join('', map { slurp($_) } glob("$dir/cutoverd.*.err"));
unlike($err, qr/\b(crit|emerg|alert)\b|prober cannot/i, 'no critical or prober error logged')
	or diag(join("\n", grep { /crit|emerg|alert|prober cannot/i } split /\n/, $err));

done_testing();
