#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Faults that must lose nothing: cutoverd killed with SIGKILL under load and started again on
# the same database (every change cutoverctl committed before is there, serving resumes);
# cutoverctl killed with SIGKILL part way through a large import (the database holds the old
# zone or the new one, never a mix, and cutoverd answers from the old one meanwhile); the LMDB
# map full during an import and a pool change (a message naming --map-size, a non-zero exit,
# nothing written, cutoverd answering from the last good state); the file system full during
# an import (where and why, nothing written; needs a mount namespace, skipped without); a map
# raised by cutoverctl --map-size kept by a restarted cutoverd. Load is bounded in count and
# time; every wait is a bounded poll.
use strict;
use warnings;

use HTTP::Tiny;
use IO::Select;
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverTest qw(zone_path timeout_scale spawn reap stop_pid fork_sub udp_socket make_query
		   run_text write_file free_port slurp);
use CutoverCli qw(cli_fixture state);

my $SCALE = timeout_scale();
my $WAIT = 30 * $SCALE;

my $t = CutoverTest->new(zones => [ zone_path('app.example') ]);
cli_fixture($t);
my $dir = $t->dir;
$t->ctl_ok('the demo pools', 'apply', zone_path('app.example') =~ s/\.zone$/.pools/r);
ok($t->start(threads => 2), 'cutoverd started') or BAIL_OUT($t->stderr_text);
my $port = $t->port;

sub wait_for
{
	my ($cond, $limit) = @_;
	my $deadline = time() + ($limit // $WAIT);
	while (1) {
		return 1 if $cond->();
		return 0 if time() >= $deadline;
		sleep(0.05);
	}
}

# The addresses of an answer, sorted, or a word for what else came back.
sub answer_of
{
	my ($name, $type) = @_;
	my $p = $t->query($name, $type // 'A', timeout => 2 * $SCALE);
	return 'no reply' unless $p;
	return $p->header->rcode unless $p->header->rcode eq 'NOERROR';
	my @a = sort map { $_->address } grep { $_->type eq ($type // 'A') } $p->answer;
	return @a ? "@a" : 'NODATA';
}

sub answers_become
{
	my ($name, $want, $desc) = @_;
	my $got;
	ok(wait_for(sub { ($got = answer_of($name)) eq $want }), $desc)
		or diag("$name: last answer [$got], want [$want]");
	return;
}

# Everything a change could touch: pools, history, status, zones, and the zones' records.
sub everything
{
	my $s = state();
	for my $zone (qw(app.example example.test)) {
		my $r = $t->ctl('zone', 'export', $zone);
		$s .= "== zone export $zone (exit $r->{exit})\n$r->{out}";
	}
	return $s;
}

# A bounded query loop against PORT: bursts of UDP queries (hits, pool names, NXDOMAIN), each
# burst's replies read for at most 20 ms, until stopped, 100,000 queries or 120 s.
sub load_start
{
	my ($port) = @_;
	return fork_sub(sub {
		my $sock = udp_socket('127.0.0.1', $port);
		my @q = map { make_query(@$_)->data } [ 'www.app.example', 'A' ],
			[ 'api.app.example', 'A' ], [ 'shop.app.example', 'A' ],
			[ 'nope.app.example', 'A' ], [ 'www.example.test', 'AAAA' ];
		my $sel = IO::Select->new($sock);
		my $end = time() + 120;
		for (my $n = 0; $n < 100_000 && time() < $end;) {
			for (1 .. 50) {
				$sock->send($q[ $n++ % @q ]);
			}
			my $buf;
			while ($sel->can_read(0.02)) {
				last unless defined $sock->recv($buf, 4096);
			}
		}
	});
}

# A zone of $n A records named PREFIX1..PREFIXn in big.example, addresses from NET, serial S.
sub big_zone
{
	my ($file, $prefix, $net, $serial, $n) = @_;
	open(my $fh, '>', $file) or die "$file: $!";
	print $fh "\$ORIGIN big.example.\n\$TTL 300\n"
		. "\@ SOA ns1 host $serial 3600 600 86400 300\n\@ NS ns1\nns1 A 192.0.2.1\n";
	printf $fh "%s%d A %s.%d.%d\n", $prefix, $_, $net, $_ >> 8 & 255, $_ & 255 for 1 .. $n;
	close $fh or die "$file: $!";
	return $file;
}

# ---------------------------------------------------------------------------------------------
subtest 'the map fills up: an import and pool changes fail whole, cutoverd serves on' => sub {
	# First, while the database is small and has few free pages.
	my $data = $t->db . '/data.mdb';
	my $before = everything();
	my $zone = big_zone("$dir/full.zone", 'full', '10.3', 1, 20_000);
	# With the map at the size of the data already in it, no new page fits.
	my $size = -s $data;
	my $pools = write_file("$dir/more.pools", "pool more.app.example. A\n"
			       . "\tgroup blue weight 100 192.0.2.91 192.0.2.92\n");
	my @groups = map {
		my $g = $_;
		('--group', "g$g=" . join(',', map { "10.$g." . ($_ >> 8) . '.' . ($_ & 255) } 1 .. 64))
	} 1 .. 16;
	for my $cmd ([ 'a zone import', 'zone', 'import', $zone ],
		     [ 'a pool set (16 groups of 64)', 'pool', 'set', 'big.app.example', @groups ],
		     [ 'a weight change', qw(weight api.app.example blue=50 green=50) ],
		     [ 'a pool file applied', 'apply', $pools ]) {
		my ($what, @args) = @$cmd;
		my $r = $t->ctl('--map-size', $size, @args);
		subtest "$what with a full map" => sub {
			is($r->{signal}, 0, 'no signal');
			isnt($r->{exit}, 0, 'a non-zero exit status');
			like($r->{err}, qr/database full.*--map-size/, 'the message names --map-size');
			like($r->{err}, qr/nothing was written/, 'and says nothing was written');
		} or diag(run_text($r));
	}
	is(everything(), $before, 'nothing of any of them is in the database');
	is(answer_of('full7.big.example'), 'REFUSED', 'cutoverd: the zone is not there');
	is(answer_of('big.app.example'), 'NXDOMAIN', 'cutoverd: nor the pool');
	is(answer_of('api.app.example'), '192.0.2.10 192.0.2.11', 'cutoverd: the weights as they were');
	is(answer_of('www.app.example'), '192.0.2.210', 'cutoverd: and the rest');

	# Raised as the message says, the same changes go in, and the running cutoverd serves them.
	$t->ctl_ok('the import with --map-size raised', '--map-size', '64M', 'zone', 'import', $zone);
	$t->ctl_ok('the pool set with --map-size raised', '--map-size', '64M', 'pool', 'set',
		   'big.app.example', @groups, '--answers', 1);
	answers_become('full7.big.example', '10.3.0.7', 'cutoverd answers from the import');
	ok(wait_for(sub { answer_of('big.app.example') =~ /^10\.1\.0\.\d+$/ }),
	   'and from the pool');
	$t->ctl_ok('drop the big zone', qw(zone delete big.example));
	$t->ctl_ok('and the pool', qw(pool delete big.app.example));
};

# ---------------------------------------------------------------------------------------------
subtest 'cutoverd killed with SIGKILL under load, three times: every committed change is there' => sub {
	my $load = load_start($port);
	my @changes = (
		[ 'a zone imported', [ 'zone', 'import', zone_path('example.test') ],
		  sub { answers_become('www.example.test', '192.0.2.10 192.0.2.11',
						       'the new zone answers') } ],
		[ 'weights set', [ qw(weight api.app.example blue=0 green=100) ],
		  sub { answers_become('api.app.example', '198.51.100.10 198.51.100.11',
				       'api answers green') } ],
		[ 'a cutover and a new pool',
		  [ qw(cutover shop.app.example green) ], undef ],
		[ 'a new pool', [ qw(pool set new.app.example --group blue=192.0.2.77) ],
		  sub { answers_become('new.app.example', '192.0.2.77', 'the new pool answers') } ],
	);
	my $round = 0;
	while (my @batch = splice(@changes, 0, 2)) {
		$round++;
		for my $c (@batch) {
			$t->ctl_ok("round $round: $c->[0]", @{ $c->[1] });
			$c->[2]->() if $c->[2];
		}
		my $before = everything();
		ok(kill('KILL', $t->pid), "round $round: SIGKILL while the load runs");
		is($t->wait_exit(10 * $SCALE), 9, "round $round: cutoverd died of it");
		ok(defined reap($load, 0) ? 0 : 1, "round $round: the load was still running");
		# A committed change does not depend on cutoverd: compare before the restart too.
		is(everything(), $before, "round $round: the database holds every change");
		ok($t->start(threads => 2, listen => ["127.0.0.1:$port"]),
		   "round $round: cutoverd starts again on the same database and port")
			or diag($t->stderr_text);
		is(everything(), $before, "round $round: nothing changed by the restart");
		answers_become('www.app.example', '192.0.2.210', "round $round: serving resumes");
	}
	# Then one more change committed just before the kill, with no wait in between.
	$t->ctl_ok('a last weight change', qw(weight api.app.example blue=100 green=0));
	kill('KILL', $t->pid);
	$t->wait_exit(10 * $SCALE);
	ok($t->start(threads => 2, listen => ["127.0.0.1:$port"]), 'started again')
		or diag($t->stderr_text);
	answers_become('api.app.example', '192.0.2.10 192.0.2.11', 'the last change is served');
	answers_become('shop.app.example', '198.51.100.20', 'the cutover is served');
	answers_become('new.app.example', '192.0.2.77', 'the new pool is served');
	answers_become('www.example.test', '192.0.2.10 192.0.2.11', 'the imported zone is served');
	stop_pid($load, grace => 5);
	unlike($t->stderr_text, qr/\berror:/, 'no error logged after the restart');
};

# ---------------------------------------------------------------------------------------------
# Which version big.example is in: 'old' or 'new' when its export is exactly that version's
# records, else a description of the mix.
sub version_of
{
	my ($n) = @_;
	my $r = $t->ctl(qw(zone export big.example));
	return "no zone (exit $r->{exit}: $r->{err})" if $r->{exit} != 0;
	my (%c, $serial);
	for (split /\n/, $r->{out}) {
		next if /^\s*(;|\$|$)/;
		$serial = $1 if /\sSOA\s+\S+\s+\S+\s+(\d+)/;
		$c{$1}++ if /^(old|new)\d+(?:\.big\.example\.)?\s/;
	}
	my ($old, $new) = ($c{old} // 0, $c{new} // 0);
	return 'old' if $old == $n && $new == 0 && $serial == 1;
	return 'new' if $new == $n && $old == 0 && $serial >= 2;
	return "a mix: $old old records, $new new, serial " . ($serial // 'none');
}

# CPU time (clock ticks) a process has used so far, or undef once it is gone.
sub cpu_ticks
{
	my ($pid) = @_;
	my $stat = slurp("/proc/$pid/stat");
	return undef unless $stat =~ /\)\s+(\S)\s+(.*)/;
	return undef if $1 eq 'Z';
	my @f = split / /, $2;
	return $f[10] + $f[11]; # utime, stime (fields 14 and 15; @f starts at field 4)
}

subtest 'cutoverctl killed with SIGKILL part way through a large import: old zone or new' => sub {
	my $n = 300_000;
	my $old = big_zone("$dir/old.zone", 'old', '10.1', 1, $n);
	my $new = big_zone("$dir/new.zone", 'new', '10.2', 2, $n);
	my $ctl = CutoverTest::cutoverctl_bin();
	my @c0 = times;
	$t->ctl_ok("the old version ($n records)", 'zone', 'import', $old);
	my @c1 = times;
	my $ref = ($c1[2] + $c1[3] - $c0[2] - $c0[3]) * 100; # its CPU time, in ticks
	note(sprintf('a whole import took %.2f s of CPU', $ref / 100));
	is(version_of($n), 'old', 'the old version is in');
	answers_become('old7.big.example', '10.1.0.7', 'and answered');

	# Kill at a share of the CPU time a whole import takes (parsing, then the one write
	# transaction), and once when data.mdb starts to grow (the commit writing its pages).
	my $data = $t->db . '/data.mdb';
	# The last two may come too late (the import ended first): then the new version is in,
	# which is fine; the first two must land part way.
	for my $at (0.2, 0.5, 0.8, 'commit') {
		my $size = -s $data;
		my $pid = spawn(cmd => [ $ctl, '--db', $t->db, 'zone', 'import', $new ]);
		my ($polls, @seen) = (0);
		my $deadline = time() + 120 * $SCALE;
		while (time() < $deadline) {
			my $ticks = cpu_ticks($pid);
			last unless defined $ticks;
			if ($at eq 'commit' ? -s $data != $size : $ticks >= $at * $ref) {
				kill('KILL', $pid);
				last;
			}
			# what cutoverd answers meanwhile
			push @seen, answer_of('old7.big.example') if $at ne 'commit' && $polls++ % 50 == 0;
		}
		my $st = reap($pid, 30 * $SCALE);
		my $how = !defined $st ? 'still running' : ($st & 127) == 9 ? 'killed' :
			'exited ' . ($st >> 8);
		note("kill at $at: import $how");
		ok($how eq 'killed', "kill at $at: killed part way") or diag($how)
			if $at ne 'commit' && $at < 0.7;
		my $v = version_of($n);
		# the old answer throughout; NXDOMAIN only at the end, after a commit got through
		pop @seen while $v eq 'new' && @seen && $seen[-1] eq 'NXDOMAIN';
		my @wrong = grep { $_ ne '10.1.0.7' } @seen;
		ok(!@wrong, "kill at $at: cutoverd answered from the old version meanwhile")
			or diag("answers: @seen");
		ok($v eq 'old' || $v eq 'new', "kill at $at: the database holds one version: $v");
		my $want = $v eq 'new' ? '10.2.0.7' : 'NXDOMAIN';
		is(answer_of('new7.big.example'), $want, "kill at $at: cutoverd agrees");
		if ($v eq 'new') { # the commit got through before the kill: start from old again
			$t->ctl_ok('the old version again', 'zone', 'import', $old);
		}
	}
	# A killed writer leaves LMDB's writer lock behind (robust mutex): the next one gets it.
	$t->ctl_ok('the new version imported to the end', 'zone', 'import', $new);
	is(version_of($n), 'new', 'the new version is in');
	answers_become('new7.big.example', '10.2.0.7', 'and answered');
	is(answer_of('old7.big.example'), 'NXDOMAIN', 'the old names are gone');
	$t->ctl_ok('drop the big zone', qw(zone delete big.example));
};

# ---------------------------------------------------------------------------------------------
# The file system full: a 256 KiB tmpfs in a mount namespace of its own (skipped without one).
subtest 'the file system fills up during an import: a clear error, nothing written' => sub {
	my $mnt = "$dir/small";
	mkdir $mnt;
	my $ctl = CutoverTest::cutoverctl_bin();
	my $zone = big_zone("$dir/disk.zone", 'disk', '10.5', 1, 20_000);
	# Each step's output behind a line "== STEP exit=N".
	my $script = 'mount -t tmpfs -o size=256k tmpfs "$1" || exit 99; c() { s=$1; d=$2; shift 2; '
		. 'echo "== $s"; "$CTL" --db "$d/db" "$@" 2>&1; echo "== $s exit=$?"; }; '
		. 'db=$1; c first "$db" zone import "$2"; c list1 "$db" zone list; '
		. 'c export1 "$db" zone export app.example; c big "$db" zone import "$3"; '
		. 'c list2 "$db" zone list; c export2 "$db" zone export app.example; '
		. 'c weight "$db" pool set api.app.example --group blue=192.0.2.1';
	my $r = CutoverTest::run_cmd([ 'unshare', '-m', 'sh', '-c', $script, 'sh', $mnt,
				       zone_path('app.example'), $zone ], env => { CTL => $ctl });
	plan(skip_all => "no mount namespace here (unshare -m needs root): $r->{err}")
		if $r->{exit} == 99 || $r->{out} !~ /== first exit=0/;
	my %o = $r->{out} =~ /^== (\w+)\n(.*?)^== \1 exit=\d+$/msg;
	my %x = $r->{out} =~ /^== (\w+) exit=(\d+)$/mg;
	is($x{big}, 1, 'the import fails with exit status 1') or diag($r->{out});
	my $why = qr/not imported: .*writing database .*file system has \d+ bytes free/;
	like($o{big} // '', qr/$why.*; nothing was written/, 'saying where and why')
		or diag($r->{out});
	is($o{list2}, $o{list1}, 'the zones are as they were');
	is($o{export2}, $o{export1}, 'and their records');
	is($x{weight}, 0, 'a small change still goes in') or diag($o{weight});
};

# ---------------------------------------------------------------------------------------------
subtest 'a map raised with cutoverctl --map-size is kept by cutoverd and later cutoverctl runs' => sub {
	my $raised = 3 << 29; # 1.5 GiB: above the default
	my $http = free_port();
	my $map_size = sub {
		$t->stop;
		ok($t->start(threads => 2, args => [ '--http', "127.0.0.1:$http" ]),
		   'cutoverd started again') or diag($t->stderr_text);
		my $m = HTTP::Tiny->new(timeout => 30 * $SCALE)->get("http://127.0.0.1:$http/metrics");
		return $m->{content} =~ /^cutover_db_map_size_bytes (\d+)/m ? $1 : "none: $m->{status}";
	};
	$t->ctl_ok('a change with a larger map', '--map-size', $raised,
		   qw(weight api.app.example blue=80 green=20));
	is($map_size->(), $raised, 'a restarted cutoverd opens it with the larger map');
	# cutoverd's own writes and a cutoverctl without --map-size keep the size recorded.
	$t->ctl_ok('a change without --map-size', qw(weight api.app.example blue=90 green=10));
	is($map_size->(), $raised, 'the map is still the larger one');
	answers_become('www.app.example', '192.0.2.210', 'and cutoverd serves');
};

is($t->stop, 0, 'cutoverd exits 0 on SIGTERM');
done_testing();
