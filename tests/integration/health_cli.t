#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# cutoverctl's side of health checks, CLI and database state only (health.t checks what cutoverd's
# prober and answers do): the check settings of pool set and the pool file, every rejected input
# leaving the database untouched, replace semantics, export/apply round trips; drain and undrain
# in status --json and history; the cutover health gate, --force and --min-healthy; status of
# targets that cutoverd's prober found down (a closed port on 127.0.0.1: no backend is run).
use strict;
use warnings;
no warnings 'qw'; # target lists are written GROUP=ADDR,ADDR inside qw()

use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverCli qw(cli_fixture show ctl ctl_ok json_of state rejected pool_json weights serial
		  history_json);
use CutoverTest qw(free_port timeout_scale write_file);

my $t = cli_fixture(CutoverTest->new);
my $dir = $t->dir;

# { ADDR => health object } of a pool (status --json), over every group.
sub health_of
{
	my ($name, $type) = @_;
	my $p = pool_json($name, $type) or return {};
	return { map { map { ($_->{address} => $_) } @{ $_->{health} } } @{ $p->{groups} } };
}

# "blue=2/2 green=1/1": each group's healthy count of its targets.
sub healthy
{
	my ($name, $type) = @_;
	my $p = pool_json($name, $type) or return '';
	return join(' ', map { "$_->{name}=$_->{healthy}/" . scalar(@{ $_->{targets} }) }
		    @{ $p->{groups} });
}

my $ZONE = write_file("$dir/pools.test.zone", <<'EOF');
$ORIGIN pools.test.
$TTL 300
@	SOA	ns1 hostmaster 100 3600 600 86400 60
	NS	ns1
ns1	A	192.0.2.1
EOF
my $r0 = $t->ctl('zone', 'import', $ZONE);
is($r0->{exit}, 0, 'import pools.test') or BAIL_OUT(show($r0));

my @CHECK_KEYS = qw(expect_body fall host insecure interval_ms kind path port rise status_max
		    status_min timeout_ms);
my @TARGET_KEYS = qw(address drained error fail_run healthy last_check last_check_ms last_ok
		     latency_us ok_run since since_ms state);

# ---------------------------------------------------------------------------------------------
subtest '--help of the health commands and options' => sub {
	my $r = $t->ctl({ nodb => 1 }, '--help');
	like($r->{out}, qr/^  drain ADDR/m, 'cutoverctl --help lists drain');
	like($r->{out}, qr/^  undrain ADDR/m, 'and undrain');
	for my $args ([qw(drain --help)], [qw(undrain --help)], [qw(cutover --help)],
		      [qw(pool set --help)], [qw(status --help)]) {
		$r = $t->ctl({ nodb => 1 }, @$args);
		is($r->{exit}, 0, "@$args: exit 0") or diag(show($r));
		like($r->{out}, qr/^Usage: cutoverctl/, "@$args: usage on stdout");
		like($r->{out}, qr/Examples?:\n  cutoverctl /, "@$args: with an example");
	}
	$r = $t->ctl({ nodb => 1 }, qw(pool set --help));
	for my $opt (qw(--check --check-host --expect-status --expect-body --insecure --interval
			--timeout --rise --fall --all-down --no-check)) {
		like($r->{out}, qr/^\s+\Q$opt\E\b/m, "pool set --help explains $opt");
	}
	like($r->{out}, qr/without --check removes its check/, 'and what a replace does to a check');
	$r = $t->ctl({ nodb => 1 }, qw(cutover --help));
	like($r->{out}, qr/--min-healthy N.*--force/s, 'cutover --help explains the gate options');
	like($r->{out}, qr/'weight' has no gate/, 'and that weight has no gate');
	$r = $t->ctl({ nodb => 1 }, qw(apply --help));
	like($r->{out}, qr/^  check tcp:PORT/m, 'apply --help describes the check lines');
	for my $args ([qw(drain)], [qw(undrain)], [qw(drain 192.0.2.1 192.0.2.2)]) {
		$r = $t->ctl(@$args);
		is($r->{exit}, 2, "usage error '@$args': exit 2") or diag(show($r));
		like($r->{err}, qr/^cutoverctl: \w+: /, "usage error '@$args': says why");
	}
};

# ---------------------------------------------------------------------------------------------
subtest 'pool set with a health check: stored, shown, exported' => sub {
	my $s = serial();
	my $r = ctl_ok('pool set web with an http check',
		       qw(pool set web.pools.test --group blue=192.0.2.10,192.0.2.11
			  --group green=198.51.100.10 --check http:8080/healthz --check-host
			  api.internal --expect-status 200-299), '--expect-body', 'status: ok',
		       qw(--interval 500ms --timeout 200ms --rise 3 --fall 4 --all-down nodata));
	like($r->{out}, qr/^web\.pools\.test\. A: created: - -> blue=100 green=0; check none -> http:8080\/healthz; check-host - -> api\.internal; expect-status 200-399 -> 200-299; expect-body - -> "status: ok"; interval 1s -> 500ms; timeout 500ms -> 200ms; rise 2 -> 3; fall 3 -> 4; all-down serve-all -> nodata; blue /m,
	     'the report names the check and every setting that is not the default');
	is(serial(), $s + 1, 'one serial bump');
	my $p = pool_json('web.pools.test');
	ok($p && ref $p->{check} eq 'HASH', 'status --json: a check object') or return;
	is_deeply([ sort keys %{ $p->{check} } ], \@CHECK_KEYS, 'the check has the documented keys');
	is_deeply($p->{check}, { kind => 'http', port => 8080, path => '/healthz',
				 host => 'api.internal', status_min => 200, status_max => 299,
				 expect_body => 'status: ok', insecure => JSON::PP::false,
				 interval_ms => 500, timeout_ms => 200, rise => 3, fall => 4 },
		  'every setting stored');
	is($p->{all_down}, 'nodata', 'all_down nodata');
	$r = ctl(qw(pool show web.pools.test));
	is($r->{out}, <<'EOF', 'pool show: the check in the pool file format');
pool web.pools.test. A
	policy  weighted
	ttl     30
	answers all
	preview-prefix ""
	check         http:8080/healthz
	check-host    api.internal
	expect-status 200-299
	expect-body   "status: ok"
	interval      500ms
	timeout       200ms
	rise          3
	fall          4
	all-down      nodata
	group blue  weight 100  192.0.2.10 192.0.2.11
	group green weight 0    198.51.100.10
EOF
	my $h = history_json('web.pools.test', '--limit', 1);
	like($h->[0]{summary}, qr/check none -> http:8080\/healthz/, 'history: the check added');
	is($h->[0]{after}{check}{port}, 8080, 'history: after holds the check');

	ctl_ok('a tcp check with the defaults', qw(pool set db.pools.test --group blue=192.0.2.20
						   --check tcp:5432));
	$p = pool_json('db.pools.test');
	is_deeply($p->{check}, { kind => 'tcp', port => 5432, path => undef, host => undef,
				 status_min => undef, status_max => undef, expect_body => undef,
				 insecure => JSON::PP::false, interval_ms => 1000, timeout_ms => 1000,
				 rise => 2, fall => 3 },
		  'tcp: interval 1s, timeout 1s, rise 2, fall 3; the HTTP settings null');
	is($p->{all_down}, 'serve-all', 'all-down serve-all by default');
	ctl_ok('an https check, path / by default, insecure',
	       qw(pool set tls.pools.test --type AAAA --group blue=2001:db8::10 --check https:443
		  --insecure --interval 200ms));
	$p = pool_json('tls.pools.test', 'AAAA');
	ok($p->{check}{kind} eq 'https' && $p->{check}{path} eq '/' && $p->{check}{insecure} &&
	   $p->{check}{timeout_ms} == 200 && $p->{check}{status_min} == 200 &&
	   $p->{check}{status_max} == 399,
	   'https: path /, insecure, status 200-399, the timeout follows a short interval')
		or diag(explain($p->{check}));
	ctl_ok('a single expected status', qw(pool set one.pools.test --group b=192.0.2.30
					      --check http:80/ --expect-status 204));
	$p = pool_json('one.pools.test');
	ok($p->{check}{status_min} == 204 && $p->{check}{status_max} == 204, 'status 204 only');
	like(ctl(qw(pool show one.pools.test))->{out}, qr/^\texpect-status 204$/m,
	     'written as one status');
	my $list = json_of(ctl(qw(pool list --json)));
	ok($list && (grep { $_->{name} eq 'web.pools.test.' && $_->{check}{kind} eq 'http' }
		     @{ $list->{pools} }), 'pool list --json has the check too');
};

# ---------------------------------------------------------------------------------------------
subtest 'every rejected check setting leaves the database untouched' => sub {
	my @g = qw(pool set web.pools.test --group blue=192.0.2.10);
	my @c = (@g, qw(--check http:8080));
	rejected('an unknown check kind', [ @g, qw(--check ftp:21) ], 2,
		 qr/pool set: --check 'ftp:21': write tcp:PORT, http:PORT\[\/PATH\] or https:PORT\[\/PATH\]/);
	rejected('a check without port', [ @g, qw(--check http) ], 2, qr/--check 'http': write tcp:PORT/);
	rejected('port 0', [ @g, qw(--check http:0) ], 2, qr/--check 'http:0': the port must be 1 to 65535/);
	rejected('port 70000', [ @g, qw(--check tcp:70000) ], 2,
		 qr/--check 'tcp:70000': the port must be 1 to 65535/);
	rejected('a port that is not a number', [ @g, qw(--check http:web) ], 2,
		 qr/--check 'http:web'/);
	rejected('a tcp check with a path', [ @g, qw(--check tcp:80/health) ], 2,
		 qr/--check 'tcp:80\/health': a tcp check has no path/);
	rejected('a blank in the path', [ @g, '--check', 'http:80/a b' ], 2,
		 qr/--check 'http:80\/a b': the path must be printable ASCII/);
	rejected('a bare number as interval', [ @c, qw(--interval 500) ], 2,
		 qr/--interval '500' has no unit: write ms, s or m/);
	rejected('hours', [ @c, qw(--interval 1h) ], 2, qr/--interval '1h': the unit must be ms, s or m/);
	rejected('a word as interval', [ @c, qw(--interval often) ], 2,
		 qr/--interval 'often' is not a duration/);
	rejected('an interval below 100ms', [ @c, qw(--interval 99ms) ], 2,
		 qr/--interval '99ms': must be 100ms to 60m/);
	rejected('an interval above 60m', [ @c, qw(--interval 61m) ], 2, qr/--interval '61m'/);
	rejected('a bare number as timeout', [ @c, qw(--timeout 1) ], 2, qr/--timeout '1' has no unit/);
	rejected('a fraction of a millisecond', [ @c, qw(--timeout 1.5ms) ], 2,
		 qr/--timeout '1\.5ms' is not a whole number of milliseconds/);
	rejected('a timeout below 10ms', [ @c, qw(--timeout 5ms) ], 2, qr/--timeout '5ms': must be 10ms/);
	rejected('a timeout above the interval', [ @c, qw(--interval 500ms --timeout 1s) ], 2,
		 qr/--timeout 1s is above --interval 500ms/);
	rejected('a timeout above a short interval', [ @c, qw(--interval 200ms --timeout 300ms) ], 2,
		 qr/--timeout 300ms is above --interval 200ms/);
	rejected('rise 0', [ @c, qw(--rise 0) ], 2, qr/--rise '0': a whole number of checks from 1 to 100/);
	rejected('fall 101', [ @c, qw(--fall 101) ], 2, qr/--fall '101'/);
	rejected('fall -1', [ @c, qw(--fall -1) ], 2, qr/--fall '-1'/);
	rejected('--insecure on http', [ @c, '--insecure' ], 2,
		 qr/--insecure is for https checks only/);
	rejected('--insecure on tcp', [ @g, qw(--check tcp:80 --insecure) ], 2,
		 qr/--insecure is for http and https checks/);
	rejected('--expect-status on tcp', [ @g, qw(--check tcp:80 --expect-status 200) ], 2,
		 qr/--expect-status is for http and https checks/);
	rejected('an upside-down status range', [ @c, qw(--expect-status 299-200) ], 2,
		 qr/--expect-status '299-200': write a status \(200\) or a range \(200-299\) within 100-599/);
	rejected('a status below 100', [ @c, qw(--expect-status 99) ], 2, qr/--expect-status '99'/);
	rejected('a status above 599', [ @c, qw(--expect-status 200-600) ], 2,
		 qr/--expect-status '200-600'/);
	rejected('a status class', [ @c, qw(--expect-status 2xx) ], 2, qr/--expect-status '2xx'/);
	rejected('a bad Host name', [ @c, qw(--check-host api/internal) ], 2,
		 qr/--check-host 'api\/internal': a host name/);
	rejected('a quote in the body', [ @c, '--expect-body', 'say "ok"' ], 2,
		 qr/--expect-body 'say "ok"': 1 to 255 bytes of printable UTF-8 text without double quotes/);
	rejected('an empty body', [ @c, '--expect-body', '' ], 2, qr/--expect-body ''/);
	rejected('an unknown --all-down', [ @g, qw(--all-down never) ], 2,
		 qr/--all-down 'never': write serve-all .* or nodata/);
	rejected('a check setting without --check', [ @g, qw(--interval 1s) ], 2,
		 qr/--interval without --check: the pool has no health check/);
	rejected('--no-check with --check', [ @c, '--no-check' ], 2,
		 qr/--no-check and --check exclude each other/);
	rejected('--no-check with --fall', [ @g, qw(--no-check --fall 2) ], 2,
		 qr/--no-check and --fall exclude each other/);
	rejected('--check without value', [ @g, '--check' ], 2, qr/missing value for option --check/);
};

# ---------------------------------------------------------------------------------------------
subtest 'replace: what is left out goes back to its default' => sub {
	ctl_ok('weights 70/30', qw(weight web.pools.test blue=70 green=30));
	my $r = ctl_ok('replace with another interval only',
		       qw(pool set web.pools.test --group blue=192.0.2.10,192.0.2.11
			  --group green=198.51.100.10 --check http:8080/healthz --interval 2s));
	like($r->{out}, qr/^web\.pools\.test\. A: replaced: blue=70 green=30 -> blue=70 green=30; check-host api\.internal -> -; expect-status 200-299 -> 200-399; expect-body "status: ok" -> -; interval 500ms -> 2s; timeout 200ms -> 1s; rise 3 -> 2; fall 4 -> 3; all-down nodata -> serve-all$/m,
	     'the report lists every setting that went back to its default');
	my $p = pool_json('web.pools.test');
	ok($p->{check}{interval_ms} == 2000 && $p->{check}{timeout_ms} == 1000 &&
	   !defined $p->{check}{host} && $p->{all_down} eq 'serve-all',
	   'stored so: the timeout 1s (below the interval), all-down serve-all');
	is(weights('web.pools.test'), 'blue=70 green=30', 'the weights are kept');
	$r = ctl_ok('replace without --check', qw(pool set web.pools.test --group blue=192.0.2.10,192.0.2.11
						  --group green=198.51.100.10));
	like($r->{out}, qr/; check http:8080\/healthz -> none$/m, 'removes the check, and says so');
	ok(!defined pool_json('web.pools.test')->{check}, 'check: null');
	ctl_ok('a check again', qw(pool set web.pools.test --group blue=192.0.2.10,192.0.2.11
				   --group green=198.51.100.10 --check tcp:8080));
	$r = ctl_ok('--no-check', qw(pool set web.pools.test --group blue=192.0.2.10,192.0.2.11
				     --group green=198.51.100.10 --no-check --all-down nodata));
	like($r->{out}, qr/; check tcp:8080 -> none; all-down serve-all -> nodata$/m,
	     '--no-check removes it too; --all-down goes without a check');
	$p = pool_json('web.pools.test');
	ok(!defined $p->{check} && $p->{all_down} eq 'nodata', 'no check, all-down nodata');
	like(ctl(qw(pool show web.pools.test))->{out}, qr/^\tall-down      nodata\n\tgroup blue/m,
	     'pool show writes all-down without a check');
	$r = ctl_ok('the same again', qw(pool set web.pools.test --group blue=192.0.2.10,192.0.2.11
					 --group green=198.51.100.10 --all-down nodata));
	like($r->{out}, qr/A: unchanged/, 'leaving --check out is --no-check: unchanged');
};

# ---------------------------------------------------------------------------------------------
subtest 'the pool file: checks round-trip, errors as FILE:LINE' => sub {
	my $file = write_file("$dir/checks.pools", <<'EOF');
pool api.pools.test.
    check https:8443/status?full=1
    check-host api.example.com
    expect-status 200
    expect-body "up # not a comment"
    insecure
    interval 1.5s
    timeout 750ms
    rise 1
    fall 2
    all-down nodata
    group blue  weight 100 192.0.2.40 192.0.2.41
    group green weight 0   198.51.100.40
pool api.pools.test. AAAA
    check tcp:22
    group blue weight 1 2001:db8::40
EOF
	my $r = ctl_ok('apply a file with checks', 'apply', $file);
	like($r->{out}, qr/2 created, 0 updated, 0 unchanged, 0 deleted/, 'two pools created');
	my $p = pool_json('api.pools.test');
	is_deeply($p->{check}, { kind => 'https', port => 8443, path => '/status?full=1',
				 host => 'api.example.com', status_min => 200, status_max => 200,
				 expect_body => 'up # not a comment', insecure => JSON::PP::true,
				 interval_ms => 1500, timeout_ms => 750, rise => 1, fall => 2 },
		  'every setting read');
	my $export = ctl(qw(export-pools pools.test))->{out};
	like($export, qr/^pool api\.pools\.test\. A\n(?:\t.*\n)*\tcheck         https:8443\/status\?full=1\n\tcheck-host    api\.example\.com\n\texpect-status 200\n\texpect-body   "up # not a comment"\n\tinsecure\n\tinterval      1500ms\n\ttimeout       750ms\n\trise          1\n\tfall          2\n\tall-down      nodata\n/m,
	     'export-pools writes every check setting');
	like($export, qr/^pool api\.pools\.test\. AAAA\n(?:\t.*\n)*\tcheck         tcp:22\n\tinterval      1s\n\ttimeout       1s\n\trise          2\n\tfall          3\n\tall-down      serve-all\n/m,
	     'a tcp check with its defaults spelled out');
	my $exported = write_file("$dir/exported.pools", $export);
	$r = ctl('apply', $exported);
	like($r->{out}, qr/0 created, 0 updated, \d+ unchanged, 0 deleted/, 'apply of the export: no change')
		or diag(show($r));
	is(ctl(qw(export-pools pools.test))->{out}, $export, 'and the export is the same text');
	my $t2 = CutoverTest->new(zones => [$ZONE]);
	$r = $t2->ctl('apply', $exported);
	is($r->{exit}, 0, 'the export applies to a fresh database') or diag(show($r));
	is($t2->ctl(qw(export-pools pools.test))->{out}, $export, 'and exports the very same text');

	my @bad = (
		[ 'kind.pools', "pool x.pools.test.\n group g weight 1 192.0.2.1\n check ftp:21\n",
		  qr/kind\.pools:3: check 'ftp:21': write tcp:PORT/ ],
		[ 'port.pools', "pool x.pools.test.\n check http:0\n interval 1s\n group g weight 1\n",
		  qr/port\.pools:2: check 'http:0': the port must be 1 to 65535/ ],
		[ 'unit.pools', "pool x.pools.test.\n check tcp:1\n interval 5\n group g weight 1\n",
		  qr/unit\.pools:3: interval '5' has no unit/ ],
		[ 'min.pools', "pool x.pools.test.\n check tcp:1\n interval 50ms\n group g weight 1\n",
		  qr/min\.pools:3: interval '50ms': must be 100ms to 60m/ ],
		[ 'timeout.pools', "pool x.pools.test.\n check tcp:1\n timeout 2s\n group g weight 1\n",
		  qr/timeout\.pools:3: timeout 2s is above interval 1s/ ],
		[ 'rise.pools', "pool x.pools.test.\n check tcp:1\n rise 0\n group g weight 1\n",
		  qr/rise\.pools:3: rise '0'/ ],
		[ 'insecure.pools', "pool x.pools.test.\n check http:80\n insecure\n group g weight 1\n",
		  qr/insecure\.pools:3: insecure is for https checks only/ ],
		[ 'status.pools', "pool x.pools.test.\n check http:80\n expect-status 500-400\n group g weight 1\n",
		  qr/status\.pools:3: expect-status '500-400'/ ],
		[ 'alldown.pools', "pool x.pools.test.\n all-down maybe\n group g weight 1\n",
		  qr/alldown\.pools:2: all-down 'maybe'/ ],
		[ 'nocheck.pools', "pool x.pools.test.\n group g weight 1\n fall 2\n",
		  qr/nocheck\.pools:3: fall without check: the pool has no health check/ ],
		[ 'twice.pools', "pool x.pools.test.\n check tcp:1\n check tcp:2\n group g weight 1\n",
		  qr/twice\.pools:3: check is already set at line 2/ ],
		[ 'quote.pools', "pool x.pools.test.\n check http:80\n expect-body \"say \"ok\"\"\n group g weight 1\n",
		  qr/quote\.pools:3: a quote \("\) in the middle of a word/ ],
	);
	for my $b (@bad) {
		my ($name, $text, $re) = @$b;
		rejected("apply $name", [ 'apply', write_file("$dir/$name", $text) ], 1, $re);
	}
};

# ---------------------------------------------------------------------------------------------
subtest 'drain and undrain: status --json, history, serial' => sub {
	ctl_ok('pool set svc', qw(pool set svc.pools.test --group blue=192.0.2.50,192.0.2.51
				  --group green=198.51.100.50,198.51.100.51));
	ctl_ok('pool set other (shares 192.0.2.50)', qw(pool set other.pools.test
							 --group main=192.0.2.50,192.0.2.60));
	my $p = pool_json('svc.pools.test');
	is_deeply([ sort keys %{ $p->{groups}[0]{health}[0] } ], \@TARGET_KEYS,
		  'a target\'s health has the documented keys');
	is($p->{answering}, 'live-targets', 'answering: live-targets');
	my $h = $p->{groups}[0]{health}[0];
	ok($h->{state} eq 'unknown' && !$h->{drained} && $h->{healthy} && !defined $h->{since} &&
	   !defined $h->{last_check} && !defined $h->{last_ok} && !defined $h->{error},
	   'never checked: unknown, healthy, times and error null');

	my $s = serial();
	my $n = scalar @{ history_json() };
	my $r = ctl_ok('drain 192.0.2.50', qw(drain 192.0.2.50));
	like($r->{out}, qr/^other\.pools\.test\. A: drained 192\.0\.2\.50; healthy targets: main 1\/2$/m,
	     'reports the pool other');
	like($r->{out}, qr/^svc\.pools\.test\. A: drained 192\.0\.2\.50; healthy targets: blue 1\/2 green 2\/2$/m,
	     'and svc: every pool that has the target');
	is(serial(), $s + 2, 'a serial bump per pool');
	my $hist = history_json();
	is(scalar @$hist, $n + 2, 'a history entry per pool');
	ok(!grep({ $_->{action} ne 'drain 192.0.2.50' || $_->{actor} ne 'tester' } @$hist[ 0, 1 ]),
	   'action "drain 192.0.2.50", the actor');
	my %by = map { ($_->{name} => $_) } @$hist[ 0, 1 ];
	is($by{'other.pools.test.'}{summary}, 'pool unchanged (main=100)',
	   'summary: the pool is unchanged');
	is($by{'svc.pools.test.'}{summary}, 'pool unchanged (blue=100 green=0)', 'for both');
	is_deeply($by{'svc.pools.test.'}{before}, $by{'svc.pools.test.'}{after},
		  'before and after are the same pool');
	like(ctl(qw(history svc.pools.test --limit 1))->{out},
	     qr/^\S+  tester\s+svc\.pools\.test\. A\s+drain 192\.0\.2\.50\s+pool unchanged \(blue=100 green=0\)$/m,
	     'history shows the drain readably');
	$h = health_of('svc.pools.test');
	ok($h->{'192.0.2.50'}{drained} && !$h->{'192.0.2.50'}{healthy} &&
	   $h->{'192.0.2.50'}{state} eq 'unknown', 'status --json: drained, not healthy, unknown');
	ok(!$h->{'192.0.2.51'}{drained}, 'the other target is not');
	is(healthy('svc.pools.test'), 'blue=1/2 green=2/2', 'group healthy counts');
	$r = ctl(qw(status svc.pools.test));
	like($r->{out}, qr/^  blue\s+100\s+100\.0%\s+1\/2\s+blue\.svc/m, 'status: HEALTHY 1/2');
	like($r->{out}, qr/^  TARGET\s+GROUP\s+STATE\s+DRAINED\s+SINCE\s+LAST CHECK\s+RESULT\s+LATENCY\s+ERROR$/m,
	     'status: a table of targets');
	like($r->{out}, qr/^  192\.0\.2\.50\s+blue\s+unknown\s+yes\s+-\s+-\s+-\s+-\s+-$/m,
	     'status: the drained target');
	like($r->{out}, qr/^  check none \(targets count as up unless drained\)  all-down serve-all$/m,
	     'status: no check');

	my $before = state();
	$r = ctl_ok('drain it again', qw(drain 192.0.2.50 --pool svc.pools.test));
	like($r->{out}, qr/^svc\.pools\.test\. A: 192\.0\.2\.50 is drained already, unchanged/m,
	     'says it is drained already');
	ok(state() eq $before, 'and writes nothing (no history, no serial bump)');

	$r = ctl_ok('undrain --pool other', qw(undrain 192.0.2.50 --pool other.pools.test));
	like($r->{out}, qr/^other\.pools\.test\. A: undrained 192\.0\.2\.50; healthy targets: main 2\/2$/m,
	     'reports it');
	unlike($r->{out}, qr/svc\.pools\.test/, '--pool: only that pool');
	ok(health_of('svc.pools.test')->{'192.0.2.50'}{drained}, 'svc keeps its drain');
	ok(!health_of('other.pools.test')->{'192.0.2.50'}{drained}, 'other\'s is gone');
	is(history_json('other.pools.test', '--limit', 1)->[0]{action}, 'undrain 192.0.2.50',
	   'history: undrain');
	$r = ctl_ok('undrain a target that is not drained', qw(undrain 192.0.2.60));
	like($r->{out}, qr/192\.0\.2\.60 is not drained, unchanged/, 'says so');

	# rollback passes over drains: it undoes the last change of the pool itself
	ctl_ok('weight svc', qw(weight svc.pools.test blue=50 green=50));
	ctl_ok('drain 192.0.2.51', qw(drain 192.0.2.51));
	$r = ctl_ok('rollback svc', qw(rollback svc.pools.test));
	like($r->{out}, qr/rolled back 'weight'.*blue=50 green=50 -> blue=100 green=0/,
	     'rollback undoes the weight, not the drain');
	ok(health_of('svc.pools.test')->{'192.0.2.51'}{drained}, 'and the drain stays');

	# every target out: fail open, or NODATA
	ctl_ok('drain green', qw(drain 198.51.100.50));
	$r = ctl_ok('drain the last one', qw(drain 198.51.100.51 --type A));
	like($r->{out}, qr/no target is healthy: cutoverd fails open and answers as if they were up/,
	     'the drain says the pool now fails open');
	is(pool_json('svc.pools.test')->{answering}, 'fail-open', 'answering: fail-open');
	like(ctl(qw(status svc.pools.test))->{out}, qr/^  no target is healthy: cutoverd fails open/m,
	     'status says so');
	ctl_ok('all-down nodata', qw(pool set svc.pools.test --group blue=192.0.2.50,192.0.2.51
				     --group green=198.51.100.50,198.51.100.51 --all-down nodata));
	is(pool_json('svc.pools.test')->{answering}, 'nodata', 'replacing the pool keeps the drains; answering: nodata');
	like(ctl(qw(status svc.pools.test))->{out}, qr/cutoverd answers NODATA \(all-down nodata\)/,
	     'status says so');
	ctl_ok("undrain $_", 'undrain', $_) for qw(192.0.2.50 192.0.2.51 198.51.100.50 198.51.100.51);
	is(healthy('svc.pools.test'), 'blue=2/2 green=2/2', 'all healthy again');

	# a target that leaves the pool takes its drain with it
	ctl_ok('drain 192.0.2.60', qw(drain 192.0.2.60));
	ctl_ok('remove it from other', qw(pool set other.pools.test --group main=192.0.2.50));
	ctl_ok('and put it back', qw(pool set other.pools.test --group main=192.0.2.50,192.0.2.60));
	ok(!health_of('other.pools.test')->{'192.0.2.60'}{drained}, 'its drain went with it');

	# IPv6
	ctl_ok('an AAAA pool', qw(pool set svc.pools.test --type AAAA --group blue=2001:db8::50));
	$r = ctl_ok('drain an IPv6 address (any spelling)', qw(drain 2001:DB8:0::50));
	like($r->{out}, qr/^svc\.pools\.test\. AAAA: drained 2001:db8::50;/m, 'the AAAA pool');
	ok(health_of('svc.pools.test', 'AAAA')->{'2001:db8::50'}{drained}, 'drained');
	is(history_json('svc.pools.test', '--type', 'AAAA', '--limit', 1)->[0]{action},
	   'drain 2001:db8::50', 'history names the address in its canonical form');
	ctl_ok('undrain it', qw(undrain 2001:db8::50));
};

# ---------------------------------------------------------------------------------------------
subtest 'rejected drains and undrains leave the database untouched' => sub {
	rejected('an address in no pool', [ qw(drain 192.0.2.99) ], 1,
		 qr/drain: 192\.0\.2\.99 is a target of no A pool/);
	rejected('an IPv6 address in no pool', [ qw(undrain 2001:db8::99) ], 1,
		 qr/undrain: 2001:db8::99 is a target of no AAAA pool/);
	rejected('an address not in --pool', [ qw(drain 192.0.2.60 --pool svc.pools.test) ], 1,
		 qr/drain: 192\.0\.2\.60 is not a target of svc\.pools\.test\. A; its targets: 192\.0\.2\.50, 192\.0\.2\.51, 198\.51\.100\.50, 198\.51\.100\.51/);
	rejected('--pool without a pool', [ qw(drain 192.0.2.50 --pool nothing.pools.test) ], 1,
		 qr/drain: nothing\.pools\.test\. has no A pool/);
	rejected('--pool outside every zone', [ qw(drain 192.0.2.50 --pool x.nowhere.test) ], 1,
		 qr/x\.nowhere\.test\. is in no zone/);
	rejected('a bad --pool name', [ qw(drain 192.0.2.50 --pool a..b) ], 2,
		 qr/drain: --pool 'a\.\.b' is not a valid domain name/);
	rejected('not an address', [ qw(drain web-1) ], 2, qr/drain: 'web-1' is not an IPv4 or IPv6 address/);
	rejected('a bad IPv4 address', [ qw(drain 192.0.2.300) ], 2, qr/'192\.0\.2\.300' is not an IPv4/);
	rejected('a subnet', [ qw(drain 192.0.2.0/24) ], 2, qr/'192\.0\.2\.0\/24'/);
	rejected('--type against the address', [ qw(drain 192.0.2.50 --type AAAA) ], 2,
		 qr/drain: --type AAAA: 192\.0\.2\.50 is an IPv4 address, a target of A pools only/);
	rejected('--type MX', [ qw(undrain 192.0.2.50 --type MX) ], 2, qr/--type 'MX'/);
	rejected('an empty --actor', [ '--actor', '', qw(drain 192.0.2.50) ], 2, qr/--actor ''/);
	rejected('an unknown option', [ qw(drain 192.0.2.50 --all) ], 2, qr/unknown option --all/);
};

# ---------------------------------------------------------------------------------------------
subtest 'the cutover gate: refused without healthy targets, --force, --min-healthy' => sub {
	ctl_ok('pool set gate A', qw(pool set gate.pools.test --group blue=192.0.2.70
				     --group green=198.51.100.70,198.51.100.71));
	ctl_ok('pool set gate AAAA', qw(pool set gate.pools.test --type AAAA --group blue=2001:db8::70
					--group green=2001:db8::71));
	ctl_ok('drain green (A)', qw(drain 198.51.100.70));
	ctl_ok('drain green (A)', qw(drain 198.51.100.71));
	rejected('cutover to an all-drained group', [ qw(cutover gate.pools.test green) ], 1,
		 qr/cutover: group 'green' of gate\.pools\.test\. A has 0 healthy targets of 2, it needs at least 1: 198\.51\.100\.70 drained, 198\.51\.100\.71 drained; repair or undrain its targets, or cut over with --force/);
	is(weights('gate.pools.test', 'AAAA'), 'blue=100 green=0',
	   'the AAAA pool, whose green is healthy, is not cut over either (one transaction)');
	my $r = ctl_ok('cutover --type AAAA', qw(cutover gate.pools.test green --type AAAA));
	like($r->{out}, qr/AAAA: cutover: blue=100 green=0 -> blue=0 green=100/, 'a healthy group passes');
	$r = ctl_ok('cutover --force', qw(cutover gate.pools.test green --force));
	like($r->{err}, qr/cutover: --force: group 'green' of gate\.pools\.test\. A has 0 healthy targets of 2.*198\.51\.100\.70 drained.*; cutting over anyway/,
	     '--force says what it overrides');
	like($r->{out}, qr/^gate\.pools\.test\. A: cutover: blue=100 green=0 -> blue=0 green=100$/m,
	     'and cuts over');
	like($r->{out}, qr/AAAA: unchanged/, 'the AAAA pool was there already');
	is(weights('gate.pools.test'), 'blue=0 green=100', 'stored');
	$r = ctl_ok('cutover to where it is', qw(cutover gate.pools.test green));
	like($r->{out}, qr/A: unchanged \(blue=0 green=100\)/, 'no traffic moves: no gate, unchanged');

	ctl_ok('undrain one', qw(undrain 198.51.100.70));
	ctl_ok('back to blue', qw(cutover gate.pools.test blue));
	rejected('--min-healthy 2 with one healthy of two',
		 [ qw(cutover gate.pools.test green --min-healthy 2 --type A) ], 1,
		 qr/group 'green' of gate\.pools\.test\. A has 1 healthy target of 2, fewer than --min-healthy 2: 198\.51\.100\.71 drained/);
	rejected('--min-healthy 3 of 2 targets', [ qw(cutover gate.pools.test green --min-healthy 3) ],
		 1, qr/has 1 healthy target of 2, fewer than --min-healthy 3/);
	ctl_ok('--min-healthy 1 passes', qw(cutover gate.pools.test green --min-healthy 1 --type A));
	ctl_ok('back to blue', qw(cutover gate.pools.test blue --type A));
	ctl_ok('--min-healthy 2 --force', qw(cutover gate.pools.test green --min-healthy 2 --force --type A));
	is(weights('gate.pools.test'), 'blue=0 green=100', 'forced');
	rejected('--min-healthy 0', [ qw(cutover gate.pools.test blue --min-healthy 0) ], 2,
		 qr/--min-healthy '0': a number of targets from 1 to 64/);
	rejected('--min-healthy x', [ qw(cutover gate.pools.test blue --min-healthy x) ], 2,
		 qr/--min-healthy 'x'/);
	rejected('--min-healthy 65', [ qw(cutover gate.pools.test blue --min-healthy 65) ], 2,
		 qr/--min-healthy '65'/);
	ctl_ok('undrain', qw(undrain 198.51.100.71));
};

# ---------------------------------------------------------------------------------------------
subtest 'a pool created anew starts without health, also after its zone was deleted' => sub {
	my $zone = write_file("$dir/gone.test.zone", <<'EOF');
$ORIGIN gone.test.
$TTL 300
@	SOA	ns1 hostmaster 1 3600 600 86400 60
	NS	ns1
ns1	A	192.0.2.1
EOF
	for my $how ('pool set', 'apply') {
		ctl_ok("import gone.test ($how)", 'zone', 'import', $zone);
		ctl_ok('pool set www', qw(pool set www.gone.test --group blue=192.0.2.80));
		ctl_ok('drain it', qw(drain 192.0.2.80 --pool www.gone.test));
		ctl_ok('zone delete', qw(zone delete gone.test));
		ctl_ok('import it again', 'zone', 'import', $zone);
		if ($how eq 'apply') {
			ctl_ok('apply www', 'apply', write_file("$dir/www.pools",
				"pool www.gone.test.\n group blue weight 100 192.0.2.80\n"));
		} else {
			ctl_ok('pool set www again', qw(pool set www.gone.test --group blue=192.0.2.80));
		}
		ok(!health_of('www.gone.test')->{'192.0.2.80'}{drained},
		   "$how: the new pool does not inherit the old one's drain");
		ctl_ok('zone delete', qw(zone delete gone.test));
	}
};

# ---------------------------------------------------------------------------------------------
# Targets cutoverd's prober finds down: a tcp check on a port of 127.0.0.1 nobody listens on
# (no backend). Only the database state is looked at, polled with a bound; no timing is asserted.
subtest 'targets the prober found down: status, the gate, forgetting a removed check' => sub {
	my $closed = free_port('127.0.0.1');
	ctl_ok('a pool on loopback with a tcp check',
	       qw(pool set probe.pools.test --group blue=127.0.0.1 --group green=127.0.0.2,127.0.0.3
		  --check), "tcp:$closed", qw(--interval 100ms --fall 1));
	ctl_ok('drain one green', qw(drain 127.0.0.3));
	ok($t->start, 'cutoverd started') or return diag($t->stderr_text);
	my $deadline = time() + 20 * timeout_scale();
	my $h;
	while (time() < $deadline) {
		$h = health_of('probe.pools.test');
		last if 3 == grep { $h->{$_}{state} eq 'down' } qw(127.0.0.1 127.0.0.2 127.0.0.3);
		sleep(0.1);
	}
	$t->stop;
	my $g = $h->{'127.0.0.2'};
	is($g->{state}, 'down', 'the prober wrote the state down') or return diag(explain($h));
	ok(!$g->{healthy} && !$g->{drained} && $g->{last_ok} == 0 && $g->{fail_run} >= 1,
	   'not healthy, not drained, the last check failed');
	ok(length($g->{error} // '') > 0, "the last error: $g->{error}");
	like($g->{since}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'since: ISO 8601');
	ok($g->{since_ms} > 0 && $g->{last_check_ms} >= $g->{since_ms}, 'since_ms <= last_check_ms');
	ok(defined $g->{latency_us}, 'a latency');
	ok($h->{'127.0.0.3'}{drained} && $h->{'127.0.0.3'}{state} eq 'down',
	   'the prober kept the drain of the drained target');
	is(pool_json('probe.pools.test')->{answering}, 'fail-open', 'every target out: fail-open');
	my $r = ctl(qw(status probe.pools.test));
	like($r->{out}, qr/^  127\.0\.0\.2\s+green\s+down\s+no\s+\d{4}-\S+Z\s+\d{4}-\S+Z\s+failed\s+[\d.]+ ms\s+\S.*$/m,
	     'status: the down target, since, last check, failed, latency, error');
	like($r->{out}, qr/^  check tcp:$closed\n  interval 100ms  timeout 100ms  rise 2  fall 1  all-down serve-all$/m,
	     'status: the check');
	rejected('cutover to a down group', [ qw(cutover probe.pools.test green) ], 1,
		 qr/group 'green' of probe\.pools\.test\. A has 0 healthy targets of 2, it needs at least 1: 127\.0\.0\.2 down since \d{4}-\S+Z \(.+\), 127\.0\.0\.3 down since \S+ \(.+\) and drained/);
	ctl_ok('--force', qw(cutover probe.pools.test green --force));

	# the check removed: what the prober found is forgotten, the drain is kept
	ctl_ok('remove the check', qw(pool set probe.pools.test --group blue=127.0.0.1
				      --group green=127.0.0.2,127.0.0.3));
	$h = health_of('probe.pools.test');
	ok((!grep { $h->{$_}{state} ne 'unknown' || defined $h->{$_}{last_check} } keys %$h),
	   'every target unknown again, never checked') or diag(explain($h));
	ok($h->{'127.0.0.3'}{drained} && !$h->{'127.0.0.2'}{drained}, 'the drain is kept');
	is(healthy('probe.pools.test'), 'blue=1/1 green=1/2', 'healthy: all but the drained one');
	is(pool_json('probe.pools.test')->{answering}, 'live-targets', 'answering: live-targets');
};

done_testing();
