#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Gradual shifts end to end: a real cutoverd runs the schedules that the real cutoverctl starts.
# A linear shift reaches 100 % through the right intermediate weights (from `shift status --json`,
# `status --json` and the shares of 2,000 answers per step); a canary; pause, resume and abort;
# `rollback` mid-shift restores the weights from before it; weight/cutover are refused during a
# shift unless --force; cutoverd rolls a shift back on its own when green's real backend dies
# (seen in `shift status`, `history` and its log); a restart of cutoverd mid-shift resumes at the
# right step (no step twice, none skipped). Intervals are short; every wait is a bounded poll,
# and no assertion depends on how fast the machine is.
use strict;
use warnings;

use JSON::PP ();
use Net::DNS;
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverTest qw(zone_path timeout_scale free_port make_query udp_socket recv_udp listen_tcp
		   backend stop_pid run_text);

my $APEX = 'app.example';
my $SCALE = timeout_scale();
my $JSON = JSON::PP->new->canonical;
my $WAIT = 30 * $SCALE;   # the most any awaited change may take, s (generous: noisy machines)
my $EVERY = 1500 * $SCALE; # ms between the steps of most shifts here
my $N = 2000;             # answers sampled per step

my $t = CutoverTest->new(zones => [ zone_path($APEX) ], start => 1, threads => 2);
my $dir = $t->dir;

my %GROUP_OF; # address => group, for the answer tallies
my @BLUE = qw(192.0.2.11 192.0.2.12);
my @GREEN = qw(198.51.100.11 198.51.100.12);
my @RED = qw(203.0.113.11);
$GROUP_OF{$_} = 'blue' for @BLUE;
$GROUP_OF{$_} = 'green' for @GREEN;
$GROUP_OF{$_} = 'red' for @RED;

# ---------------------------------------------------------------------------------------------
# Helpers.

sub fqdn
{
	my ($label) = @_;
	return "$label.$APEX";
}

# cutoverctl as the actor shift.t; ctl_ok: one ok() named $what that it exits 0. The result.
sub ctl
{
	return $t->ctl('--actor', 'shift.t', @_);
}

sub ctl_ok
{
	my ($what, @args) = @_;
	return $t->ctl_ok($what, '--actor', 'shift.t', @args);
}

# cutoverctl; one ok() that it exits with $exit and says $like on stderr; the result.
sub ctl_fails
{
	my ($what, $exit, $like, @args) = @_;
	my $r = ctl(@args);
	ok($r->{exit} == $exit && $r->{err} =~ $like, $what)
		or diag("cutoverctl @args (want exit $exit, stderr like $like)\n" . run_text($r));
	return $r;
}

# A pool NAME (type A) with blue and green, weights as given (blue=100 green=0 by default).
sub pool
{
	my ($name, @more) = @_;
	ctl_ok("pool set $name", 'pool', 'set', $name, '--group', 'blue=' . join(',', @BLUE),
	       '--group', 'green=' . join(',', @GREEN), @more);
	return;
}

# Poll $cond every 50 ms for at most $limit seconds; the seconds it took, or undef.
sub wait_for
{
	my ($cond, $limit) = @_;
	my $start = time();
	my $deadline = $start + ($limit // $WAIT);
	while (1) {
		return time() - $start if $cond->();
		return undef if time() >= $deadline;
		sleep(0.05);
	}
}

# The A shift of NAME from `shift status NAME --type A --json`, or undef.
sub shift_of
{
	my ($name) = @_;
	my $r = ctl('shift', 'status', $name, '--type', 'A', '--json');
	return undef unless $r->{exit} == 0;
	my $doc = eval { $JSON->decode($r->{out}) } or return undef;
	return $doc->{shifts}[0];
}

# Weights of the A pool NAME from `status --json`: "blue=90 green=10".
sub weights
{
	my ($name) = @_;
	my $r = ctl('status', $name, '--type', 'A', '--json');
	my $doc = $r->{exit} == 0 ? eval { $JSON->decode($r->{out}) } : undef;
	my $pool = $doc ? $doc->{pools}[0] : undef;
	return 'no pool' unless $pool;
	return join(' ', map { "$_->{name}=$_->{weight}" } @{ $pool->{groups} });
}

# Wait until the shift of NAME satisfies $cond (given the shift); one ok(); the shift.
sub shift_becomes
{
	my ($name, $cond, $desc) = @_;
	my $s;
	my $took = wait_for(sub { $s = shift_of($name); $s && $cond->($s) });
	ok(defined $took, $desc)
		or diag("$name: last shift status: " . ($s ? $JSON->encode($s) : 'none'));
	note(sprintf('%s: %.2f s', $desc, $took)) if defined $took;
	return $s;
}

# $n answers for NAME over UDP (64 in flight): { group => count }, 'lost' for no reply.
sub tally
{
	my ($name, $n) = @_;
	my $sock = udp_socket($t->host, $t->port);
	my $q = make_query($name, 'A')->data;
	my ($sent, $got, %c) = (0, 0);
	while ($got < $n) {
		while ($sent < $n && $sent - $got < 64) {
			substr($q, 0, 2) = pack('n', $sent & 0xffff);
			defined $sock->send($q) or die "send: $!";
			$sent++;
		}
		my $raw = recv_udp($sock, 5 * $SCALE);
		if (!defined $raw) { # the rest in flight is lost
			$c{lost} += $sent - $got;
			$got = $sent;
			next;
		}
		$got++;
		my $addr = first_a($raw, length $q);
		$c{ defined $addr ? $GROUP_OF{$addr} // $addr : 'no answer' }++;
	}
	return \%c;
}

# The address of the first A record of a reply to a query of $qlen bytes (header and question,
# echoed), read in place when the record's owner is compressed (cutoverd's are): fast enough to
# sample 2,000 answers well within a step on a loaded machine. Net::DNS otherwise.
sub first_a
{
	my ($raw, $qlen) = @_;
	if (length($raw) >= $qlen + 16 && unpack('n', substr($raw, 6, 2)) > 0
	    && ord(substr($raw, $qlen, 1)) >= 0xC0 && unpack('n', substr($raw, $qlen + 2, 2)) == 1) {
		return join('.', unpack('C4', substr($raw, $qlen + 12, 4)));
	}
	my $p = Net::DNS::Packet->new(\$raw);
	my ($a) = $p ? grep { $_->type eq 'A' } $p->answer : ();
	return $a ? $a->address : undef;
}

sub tally_text
{
	my ($c) = @_;
	return join(', ', map { "$_ $c->{$_}" } sort keys %$c);
}

# $N answers for NAME sampled while its A shift stays at one step: one ok() that green's share is
# within $tol points of that step's percent. When a step came during the sample it is taken
# again, at the step then (at most 5 times), so the check never depends on the machine's speed.
# $seen: the shift as just read, if the caller has it (one cutoverctl run less before sampling).
sub share_is
{
	my ($name, $tol, $seen) = @_;
	for my $try (1 .. 5) {
		my $before = $try == 1 && $seen ? $seen : shift_of($name) // {};
		my $c = tally($name, $N);
		my $after = shift_of($name) // {};
		next if ($before->{step} // -1) != ($after->{step} // -2)
			|| ($before->{state} // '') ne ($after->{state} // '');
		my ($pct, $k) = ($before->{percent} // -1, $before->{step} // 0);
		my $green = 100 * ($c->{green} // 0) / $N;
		ok(abs($green - $pct) <= $tol && !$c->{lost},
		   "~$pct % of $N answers are green at step $k")
			or diag(sprintf('green %.1f %% (want %d +- %d): %s', $green, $pct, $tol,
					tally_text($c)));
		return;
	}
	pass('answer shares (not taken: a step came during every sample)');
	return;
}

# History of the A pool NAME, oldest first: [{ action, actor, time_ms, ... }].
sub history_of
{
	my ($name) = @_;
	my $r = ctl('history', $name, '--type', 'A', '--json');
	my $doc = $r->{exit} == 0 ? eval { $JSON->decode($r->{out}) } : undef;
	return [ reverse @{ $doc ? $doc->{history} : [] } ];
}

# The actions of NAME's history that are a shift's steps or rollbacks, oldest first.
sub shift_actions
{
	my ($name) = @_;
	return [ map { $_->{action} } grep { $_->{action} =~ /^shift / } @{ history_of($name) } ];
}

# Percent steps of a linear shift.
sub linear_steps
{
	my ($pct) = @_;
	my @s;
	for (my $p = $pct; ; $p += $pct) {
		push @s, $p < 100 ? $p : 100;
		last if $p >= 100;
	}
	return @s;
}

# ---------------------------------------------------------------------------------------------

subtest 'arguments: usage errors exit 2 and write nothing' => sub {
	my $name = fqdn('args');
	pool($name);
	my $bad = qr/^cutoverctl: shift: /m;
	ctl_fails('no kind', 2, qr/say how to shift/, 'shift', $name, 'green');
	ctl_fails('--canary with --every', 2, qr/--canary takes --after, not --every/,
		  'shift', $name, 'green', '--canary', 10, '--every', '1s');
	ctl_fails('--linear without --every', 2, qr/--linear needs --every DUR/,
		  'shift', $name, 'green', '--linear', 10);
	ctl_fails('two kinds', 2, qr/give one of --canary, --linear and --steps/,
		  'shift', $name, 'green', '--linear', 10, '--canary', 10, '--every', '1s');
	ctl_fails('a duration without a unit', 2, qr/--every '10' has no unit/,
		  'shift', $name, 'green', '--linear', 10, '--every', '10');
	ctl_fails('a duration below 100ms', 2, qr/at least 100ms/,
		  'shift', $name, 'green', '--linear', 10, '--every', '50ms');
	ctl_fails('--canary 100', 2, qr/--canary '100': a percentage from 1 to 99/,
		  'shift', $name, 'green', '--canary', 100, '--after', '1s');
	ctl_fails('--linear 0', 2, qr/--linear '0'/, 'shift', $name, 'green', '--linear', 0,
		  '--every', '1s');
	ctl_fails('falling --steps', 2, qr/each step must be above the one before \(50 then 40\)/,
		  'shift', $name, 'green', '--steps', '10,50,40', '--every', '1s');
	ctl_fails('--steps 0', 2, qr/'0' is not a percentage/, 'shift', $name, 'green', '--steps',
		  '0,100', '--every', '1s');
	ctl_fails('--min-healthy 0', 2, qr/--min-healthy '0'/, 'shift', $name, 'green', '--linear',
		  10, '--every', '1s', '--min-healthy', 0);
	ctl_fails('--rollback-on sometimes', 2, qr/--rollback-on 'sometimes'/, 'shift', $name,
		  'green', '--linear', 10, '--every', '1s', '--rollback-on', 'sometimes');
	ctl_fails('a bad group name', 2, qr/'gr een' is not a group name/, 'shift', $name,
		  'gr een', '--linear', 10, '--every', '1s');
	my $r = ctl_fails('no GROUP', 2, qr/missing argument/, 'shift', $name);
	like($r->{err}, qr/^Usage: cutoverctl .* shift NAME GROUP --canary PCT --after DUR/m,
	     'the usage follows a usage error');
	ctl_fails('shift status with two names', 2, qr/unexpected argument/, 'shift', 'status',
		  $name, $name);
	ctl_fails('shift pause without a name', 2, qr/shift pause: missing argument/, 'shift',
		  'pause');
	$r = ctl_ok('shift --help', 'shift', '--help');
	like($r->{out}, qr/Examples:\n.*--canary 10 --after 5m/s, '--help shows examples');
	ctl_ok('shift status --help', 'shift', 'status', '--help');

	# runtime refusals exit 1
	ctl_fails('an unknown group', 1, qr/has no group 'purple'; its groups: blue, green/,
		  'shift', $name, 'purple', '--linear', 10, '--every', '1s');
	ctl_fails('a name without a pool', 1, qr/has no A or AAAA pool/, 'shift', fqdn('nopool'),
		  'green', '--linear', 10, '--every', '1s');
	ctl_fails('a name in no zone', 1, qr/is in no zone/, 'shift', 'x.nowhere.test', 'green',
		  '--linear', 10, '--every', '1s');
	ctl_ok('pool set a failover pool', 'pool', 'set', fqdn('fo'), '--group',
	       'blue=' . join(',', @BLUE), '--group', 'green=' . join(',', @GREEN), '--policy',
	       'failover');
	ctl_fails('a failover pool', 1, qr/is a failover pool/, 'shift', fqdn('fo'), 'green',
		  '--linear', 10, '--every', '1s');
	ctl_fails('a group without targets fails the gate', 1,
		  qr/group 'empty' has 0 healthy targets, the shift needs 1/, 'shift',
		  fqdn('empty'), 'empty', '--linear', 10, '--every', '1s')
		if ctl('pool', 'set', fqdn('empty'), '--group', 'blue=' . join(',', @BLUE),
		       '--group', 'empty=')->{exit} == 0;
	ctl_fails('--min-healthy above the targets', 1, qr/has 2 healthy targets, the shift needs 3/,
		  'shift', $name, 'green', '--linear', 10, '--every', '1s', '--min-healthy', 3);
	ctl_fails('shift pause with no shift', 1, qr/has no shift/, 'shift', 'pause', $name);
	is(weights($name), 'blue=100 green=0', 'nothing was written');
	ctl_fails('shift status of a pool without shifts', 0, qr/no shift recorded for/, 'shift',
		  'status', $name);
	is(ctl('shift', 'status', $name, '--json')->{out}, qq({\n  "shifts": []\n}\n),
	   'shift status --json of a pool without shifts: an empty list');
};

subtest 'linear: 25 % every step to 100 %, through the right weights and answer shares' => sub {
	my $name = fqdn('linear');
	pool($name);
	my $r = ctl_ok('shift --linear 25', 'shift', $name, 'green', '--linear', 25, '--every',
		       "${EVERY}ms", '--type', 'A');
	like($r->{out}, qr/^linear\.app\.example\. A: shift to green started, linear \+25 % every \S+ \(4 steps\): blue=100 green=0 -> blue=75 green=25; running at step 1 of 4/,
	     'the report: plan, first step, weights');
	my $s = shift_of($name);
	share_is($name, 5, $s); # first: the answers of step 1, before it passes
	ok($s && $s->{state} eq 'running' && $s->{kind} eq 'linear' && $s->{group} eq 'green'
	   && $s->{nsteps} == 4 && "@{ $s->{steps} }" eq '25 50 75 100' && $s->{every_ms} == $EVERY
	   && $s->{min_healthy} == 1 && $s->{rollback_on} eq 'unhealthy' && $s->{actor} eq 'shift.t'
	   && defined $s->{next_ms} && defined $s->{next_time} && !defined $s->{reason},
	   'shift status --json: plan, state and next step')
		or diag($JSON->encode($s // {}));
	my $st = ctl('status', $name, '--type', 'A');
	like($st->{out}, qr/^  shift to green: running at step \d of 4 \(green \d+ %\); next: step \d \(green \d+ %\) at \S+, in /m,
	     'status shows the shift under the groups');
	my $doc = eval { $JSON->decode(ctl('status', $name, '--type', 'A', '--json')->{out}) } // {};
	my $js = $doc->{pools} ? $doc->{pools}[0]{shift} : undef;
	ok($js && $js->{state} eq 'running' && $js->{group} eq 'green', 'status --json: the shift')
		or diag($JSON->encode($doc));
	my %want = (1 => 'blue=75 green=25', 2 => 'blue=50 green=50', 3 => 'blue=25 green=75',
		    4 => 'blue=0 green=100');
	for my $step (1 .. 4) {
		$s = shift_becomes($name, sub { $_[0]{step} >= $step }, "step $step is reached");
		last unless $s;
		my $k = $s->{step};
		share_is($name, $k == 4 ? 0 : 5, $s) if $k > 1;
		is(join(' ', map { "$_=$s->{weights}{$_}" } sort keys %{ $s->{weights} }), $want{$k},
		   "shift status: the weights at step $k");
		is($s->{percent}, $s->{steps}[ $k - 1 ], "shift status: percent at step $k");
		my $w = weights($name);
		my $now = shift_of($name) // {};
		is($w, $want{ $now->{step} // $k }, "status --json: the weights at step $k")
			if ($now->{step} // 0) == $k;
	}
	$s = shift_becomes($name, sub { $_[0]{state} eq 'done' }, 'the shift is done');
	is($s->{reason}, 'completed: green at 100%', 'its reason') if $s;
	ok($s && !defined $s->{next_ms} && defined $s->{ended_ms}, 'no next step; an end time');
	$doc = eval { $JSON->decode(ctl('status', $name, '--type', 'A', '--json')->{out}) } // {};
	ok($doc->{pools} && !defined $doc->{pools}[0]{shift}, 'status --json: no shift once it is done');
	is_deeply(shift_actions($name), [ map { "shift step $_ of 4: green " . 25 * $_ . '%' } 1 .. 4 ],
		  'history: steps 1 to 4, once each, in order');
	my @h = grep { $_->{action} =~ /^shift step/ } @{ history_of($name) };
	is_deeply([ map { $_->{actor} } @h ], [ 'shift.t', ('shift') x 3 ],
		  'the first step by the operator, the others by shift');
	is(scalar(@{ $s->{history} // [] }), 4, 'shift status lists the 4 steps');
	like(ctl('shift', 'status', $name)->{out},
	     qr/^linear\.app\.example\. A  shift to green: done\n  plan +linear \+25 % every .*\n  progress +completed: green at 100%\n  weights +blue=0 green=100\n/,
	     'shift status (text): state, plan, progress, weights');
	like($t->stderr_text, qr/shift pool=linear\.app\.example\.\/A event="step 4 of 4: green 100%"/,
	     "cutoverd's log has the steps");
};

subtest 'canary: 10 %, then 100 % after the wait; three groups keep their proportion' => sub {
	my $name = fqdn('canary');
	ctl_ok('pool set with three groups', 'pool', 'set', $name, '--group',
	       'blue=' . join(',', @BLUE), '--group', 'green=' . join(',', @GREEN), '--group',
	       'red=' . join(',', @RED), '--weight', 'blue=60', '--weight', 'red=30');
	ctl_ok('shift --canary 10', 'shift', $name, 'green', '--canary', '10%', '--after',
	       (3 * $EVERY / 1000) . 's');
	my $s = shift_of($name);
	ok($s && $s->{kind} eq 'canary' && "@{ $s->{steps} }" eq '10 100' && $s->{step} == 1,
	   'canary: steps 10 and 100, at step 1') or diag($JSON->encode($s // {}));
	is(weights($name), 'blue=60 green=10 red=30', 'green 10; blue and red share 90 as 2:1');
	share_is($name, 4);
	$s = shift_becomes($name, sub { $_[0]{state} eq 'done' }, 'the canary completes');
	is(weights($name), 'blue=0 green=100 red=0', 'then green has everything');
	is_deeply(shift_actions($name), [ 'shift step 1 of 2: green 10%', 'shift step 2 of 2: green 100%' ],
		  'history: the two steps');
};

subtest 'pause, resume, abort; one shift per pool' => sub {
	my $name = fqdn('pause');
	pool($name);
	ctl_ok('shift --linear 20', 'shift', $name, 'green', '--linear', 20, '--every', "${EVERY}ms");
	my $r = ctl_fails('a second shift is refused with the running one\'s status', 1,
			  qr/already has a shift to green: running at step 1 of 5 \(green 20 %\); next: step 2/,
			  'shift', $name, 'green', '--canary', 5, '--after', '1m', '--type', 'A');
	$r = ctl_ok('shift pause', 'shift', 'pause', $name);
	like($r->{out}, qr/^pause\.app\.example\. A: shift to green paused: paused at step (\d) of 5/m,
	     'the report says where it is');
	my $s = shift_of($name);
	my $at = $s ? $s->{step} : 0;
	ok($s && $s->{state} eq 'paused' && defined $s->{paused_left_ms}
	   && $s->{paused_left_ms} <= $EVERY && !defined $s->{next_ms}, 'paused, with the wait left')
		or diag($JSON->encode($s // {}));
	ctl_fails('pause twice', 1, qr/is already paused/, 'shift', 'pause', $name);
	ctl_fails('a paused shift also blocks a new one', 1, qr/already has a shift to green: paused/,
		  'shift', $name, 'green', '--linear', 50, '--every', '1s');
	my $w = weights($name);
	sleep(3 * $EVERY / 1000);
	$s = shift_of($name);
	ok($s && $s->{state} eq 'paused' && $s->{step} == $at, 'three intervals later: still paused there');
	is(weights($name), $w, 'and the weights have not moved');
	$r = ctl_ok('shift resume', 'shift', 'resume', $name);
	like($r->{out}, qr/resumed: running at step $at of 5 .*; next: step @{[ $at + 1 ]} /,
	     'the report names the next step');
	ctl_fails('resume twice', 1, qr/is already running/, 'shift', 'resume', $name);
	$s = shift_becomes($name, sub { $_[0]{step} > $at }, 'the shift goes on after the resume');
	$at = $s ? $s->{step} : 0;
	$r = ctl_ok('shift abort', 'shift', 'abort', $name);
	like($r->{out}, qr/aborted: aborted by shift\.t at step (\d) of 5; the weights stay blue=(\d+) green=(\d+)/,
	     'the report: aborted where it was');
	$s = shift_of($name);
	$at = $s ? $s->{step} : 0;
	ok($s && $s->{state} eq 'aborted' && $s->{reason} eq "aborted by shift.t at step $at of 5",
	   'shift status: aborted, by whom, where') or diag($JSON->encode($s // {}));
	$w = weights($name);
	is($w, 'blue=' . (100 - 20 * $at) . ' green=' . 20 * $at, 'the weights of that step stay');
	sleep(2 * $EVERY / 1000);
	is(weights($name), $w, 'two intervals later: unchanged');
	ctl_fails('abort again', 1, qr/has no active shift; the last one, to green, ended: aborted by shift\.t/,
		  'shift', 'abort', $name);
	ctl_ok('a new shift after an aborted one', 'shift', $name, 'blue', '--canary', 50, '--after',
	       '10m');
	is(weights($name), 'blue=50 green=50', 'blue 50 %');
	ctl_ok('abort it', 'shift', 'abort', $name);
};

subtest 'rollback mid-shift restores the weights from before it; weight and cutover need --force' => sub {
	my $name = fqdn('rb');
	pool($name, '--weight', 'blue=80', '--weight', 'green=20');
	ctl_ok('shift --linear 30 (A and AAAA pools: only A here)', 'shift', $name, 'green',
	       '--linear', 30, '--every', "${EVERY}ms");
	my $s = shift_becomes($name, sub { $_[0]{step} >= 2 }, 'step 2 is reached');
	ctl_fails('weight during a shift is refused', 1,
		  qr/weight: rb\.app\.example\. A: a shift to green is running .*'cutoverctl shift abort rb\.app\.example'.*--force/,
		  'weight', $name, 'blue=50', 'green=50');
	ctl_fails('cutover during a shift is refused', 1, qr/cutover: .*a shift to green is running/,
		  'cutover', $name, 'green');
	my $r = ctl_ok('rollback', 'rollback', $name);
	like($r->{out}, qr/^rb\.app\.example\. A: .*shift .*-> blue=80 green=20/m,
	     'the report shows the weights going back');
	is(weights($name), 'blue=80 green=20', 'the weights from before the shift are back');
	$s = shift_of($name);
	ok($s && $s->{state} eq 'rolled_back' && $s->{reason} =~ /^rolled back by shift\.t at step \d of 4$/,
	   'shift status: rolled back, by whom') or diag($JSON->encode($s // {}));
	my $acts = shift_actions($name);
	like($acts->[-1] // '', qr/^shift rollback: rolled back by shift\.t at step \d of 4$/,
	     'history: the rollback is recorded');
	sleep(2 * $EVERY / 1000);
	is(weights($name), 'blue=80 green=20', 'and no step comes after it');
	$r = ctl_ok('a second rollback undoes the first (an ordinary undo)', 'rollback', $name);
	isnt(weights($name), 'blue=80 green=20', 'the weights of the step are back');

	# --force aborts the shift in the same transaction as the change
	ctl_ok('a new shift', 'shift', $name, 'green', '--linear', 10, '--every', '10m');
	$r = ctl_ok('weight --force', 'weight', $name, 'blue=70', 'green=30', '--force');
	like($r->{out} . $r->{err}, qr/aborted the running shift to green at step 1 of 10/,
	     'it says it aborted the shift');
	is(weights($name), 'blue=70 green=30', 'the weights are set');
	$s = shift_of($name);
	ok($s && $s->{state} eq 'aborted', 'the shift is aborted') or diag($JSON->encode($s // {}));
	ctl_ok('a new shift', 'shift', $name, 'green', '--linear', 10, '--every', '10m');
	ctl_ok('cutover --force', 'cutover', $name, 'blue', '--force');
	is(weights($name), 'blue=100 green=0', 'cutover done');
	is((shift_of($name) // {})->{state}, 'aborted', 'and the shift aborted');
};

subtest 'automatic rollback when green\'s backend dies mid-shift' => sub {
	my ($b, $g1, $g2) = ('127.0.7.1', '127.0.7.2', '127.0.7.3');
	# One port on the three addresses. Green's backend is forked first, before blue's socket
	# exists: a child keeps every listening socket open in the parent when it forks, and a
	# green socket held by blue's backend would keep accepting after green's backend died.
	my ($port, $blue, $green);
	for (1 .. 50) {
		$port = free_port('127.0.0.1');
		my @gl = map { listen_tcp($_, $port) } $g1, $g2;
		next if grep { !$_ } @gl;
		$green = backend(listen => \@gl, log => "$dir/auto-green.log");
		my $bl = listen_tcp($b, $port);
		$blue = backend(listen => [$bl], log => "$dir/auto-blue.log") if $bl;
		last if $blue;
		stop_pid($green, grace => 5);
	}
	my $name = fqdn('auto');
	ctl_ok('pool set with a TCP check', 'pool', 'set', $name, '--group', "blue=$b",
	       '--group', "green=$g1,$g2", '--check', "tcp:$port", '--interval', '200ms',
	       '--timeout', '150ms', '--fall', 2, '--rise', 2);
	my @states;
	my $up = wait_for(sub {
		my $r = ctl('status', $name, '--type', 'A', '--json');
		my $doc = $r->{exit} == 0 ? eval { $JSON->decode($r->{out}) } : undef;
		@states = map { map { $_->{state} // '?' } @{ $_->{health} // [] } }
			@{ $doc ? $doc->{pools}[0]{groups} : [] };
		@states == 3 && !grep { $_ ne 'up' } @states;
	});
	ok(defined $up, 'every target is checked up') or diag("states: @states");
	ctl_ok('shift --linear 10 with gate 2', 'shift', $name, 'green', '--linear', 10, '--every',
	       "${EVERY}ms", '--min-healthy', 2);
	my $s = shift_becomes($name, sub { $_[0]{step} >= 2 }, 'step 2 is reached');
	stop_pid($green, grace => 5);
	$s = shift_becomes($name, sub { $_[0]{state} ne 'running' }, 'the shift ends on its own');
	ok($s && $s->{state} eq 'rolled_back', 'state: rolled back') or diag($JSON->encode($s // {}));
	like($s ? $s->{reason} : '', qr/^rolled back: 127\.0\.7\.[23] down/, 'reason: rolled back: <target> down');
	is(weights($name), "blue=100 green=0", 'the weights from before the shift');
	my @h = grep { $_->{action} =~ /^shift rollback/ } @{ history_of($name) };
	ok(@h == 1 && $h[0]{actor} eq 'shift' && $h[0]{action} =~ /^shift rollback: rolled back: 127\.0\.7\.[23] down/,
	   'history: the rollback by shift') or diag($JSON->encode(\@h));
	like(ctl('shift', 'status', $name)->{out}, qr/progress +rolled back: 127\.0\.7\.[23] down.*\(at step \d+ of 10, green \d+ %\)/,
	     'shift status (text) says why and where');
	ok(wait_for(sub { $t->stderr_text =~ /shift pool=auto\.app\.example\.\/A event="rolled back: 127\.0\.7\.[23] down/ }, 5 * $SCALE),
	   "cutoverd's log has the rollback") or diag($t->stderr_text);
	my $c = tally($name, 200);
	is_deeply($c, { $b => 200 }, 'answers: blue only') or diag(tally_text($c));
	stop_pid($blue, grace => 5);
	ctl('pool', 'delete', $name);
};

subtest 'a restart of cutoverd mid-shift resumes at the right step' => sub {
	my $name = fqdn('restart');
	pool($name);
	my $every = 1000 * $SCALE;
	ctl_ok('shift --linear 20', 'shift', $name, 'green', '--linear', 20, '--every', "${every}ms",
	       '--type', 'A');
	shift_becomes($name, sub { $_[0]{step} >= 2 }, 'step 2 is reached');
	ok(defined $t->stop, 'cutoverd stops');
	my $at = (shift_of($name) // {})->{step} // 0;
	note("stopped at step $at");
	sleep(2.5 * $every / 1000); # steps 3 and 4 fall due meanwhile
	my $s = shift_of($name);
	is($s ? $s->{step} : -1, $at, 'while cutoverd is down no step is applied');
	like(ctl('shift', 'status', $name)->{out}, qr/is cutoverd running\?/,
	     'shift status says the step is overdue');
	ok($t->start(threads => 2), 'cutoverd starts again') or return diag($t->stderr_text);
	$s = shift_becomes($name, sub { $_[0]{state} eq 'done' }, 'the shift completes');
	my @steps = grep { $_->{action} =~ /^shift step/ } @{ history_of($name) };
	is_deeply([ map { $_->{action} } @steps ], [ map { "shift step $_ of 5: green " . 20 * $_ . '%' } 1 .. 5 ],
		  'history: every step once, in order (none twice, none skipped)');
	my $next = $steps[$at] // {};
	my $after = $steps[ $at + 1 ] // {};
	ok(($after->{time_ms} // 0) - ($next->{time_ms} // 0) >= $every - 50,
	   "the step after the overdue one came one interval later, not at once")
		or diag($JSON->encode([ $next, $after ]));
	my $log = $t->stderr_text;
	my @logged = $log =~ /shift pool=restart\.app\.example\.\/A event="step (\d) of 5/g;
	is("@logged", join(' ', $at + 1 .. 5), "the new cutoverd's log: steps @{[ $at + 1 ]} to 5");
};

ok($t->running, 'cutoverd is still running');
done_testing();
