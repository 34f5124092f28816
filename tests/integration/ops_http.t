#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# cutoverd --http: /metrics (Prometheus text; counters move with queries; promtool when it can
# be had), /status (JSON with the keys of `cutoverctl status --json`, target health, shifts,
# history) and the status page, rendered by headless Chromium (DOM checked, screenshots kept
# in the test's folder: CT_TEST_KEEP=1 keeps it).
use strict;
use warnings;

use File::Temp ();
use HTTP::Tiny;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverTest qw(zone_path free_port spawn stop_pid run_cmd slurp repo_root);

my $JSON = JSON::PP->new;
my $scale = CutoverTest::timeout_scale();
my $http = HTTP::Tiny->new(timeout => 30 * $scale);

my $t = CutoverTest->new(zones => [ zone_path('app.example'), zone_path('example.test') ]);
my $r = $t->ctl('apply', repo_root() . '/zones/app.example.pools');
is($r->{exit}, 0, 'apply zones/app.example.pools') or diag($r->{err});

# Backends for a checked pool: a process accepting TCP on 127.0.0.2 and 127.0.0.4; nothing
# listens on 127.0.0.3, so its checks are refused.
my $bport = free_port('127.0.0.2');
my $acceptor = <<'EOF';
use IO::Socket::IP; use IO::Select;
my ($port, @addrs) = @ARGV;
my @l = map { IO::Socket::IP->new(LocalHost => $_, LocalPort => $port, Listen => 128,
				   ReuseAddr => 1) or die "$_:$port: $!" } @addrs;
my $sel = IO::Select->new(@l);
open(my $ready, '>', "$ENV{READY}") or die; close $ready;
while (1) { for my $s ($sel->can_read(5)) { my $c = $s->accept; close $c if $c } }
EOF
my $ready = $t->dir . '/backend.ready';
my $backend = spawn(cmd => [ $^X, '-e', $acceptor, $bport, '127.0.0.2', '127.0.0.4' ],
		    env => { READY => $ready }, stderr => $t->dir . '/backend.err');
my $deadline = time() + 30 * $scale;
sleep(0.05) while !-e $ready && time() < $deadline;
ok(-e $ready, 'backends listen') or diag(slurp($t->dir . '/backend.err'));

$r = $t->ctl('--actor', 'ops_http.t', 'pool', 'set', 'web.app.example', '--group',
	     'blue=127.0.0.2,127.0.0.3', '--group', 'green=127.0.0.4', '--check', "tcp:$bport",
	     '--interval', '200ms', '--rise', 1, '--fall', 1);
is($r->{exit}, 0, 'a pool with a TCP check') or diag($r->{err});

my $hport;
my $started = 0;
for (1 .. 3) {
	$hport = free_port();
	$started = $t->start(threads => 2, args => [ '--http', "127.0.0.1:$hport" ]);
	last if $started || $t->stderr_text !~ /in use/;
}
ok($started, 'cutoverd starts with --http') or BAIL_OUT("cutoverd did not start:\n" . $t->stderr_text);
my $base = "http://127.0.0.1:$hport";
like($t->stderr_text, qr/listening addr=127\.0\.0\.1:$hport proto=tcp service=http/,
     'the HTTP listener is logged');

sub get
{
	my ($path) = @_;
	return $http->get("$base$path");
}

sub status_doc
{
	my $res = get('/status');
	return undef unless $res->{success};
	return eval { $JSON->decode($res->{content}) };
}

# The target's health object in /status, or undef.
sub target_of
{
	my ($doc, $pool, $addr) = @_;
	for my $p (@{ $doc->{pools} }) {
		next unless $p->{name} eq $pool && $p->{type} eq 'A';
		for my $g (@{ $p->{groups} }) {
			for my $h (@{ $g->{health} }) {
				return $h if $h->{address} eq $addr;
			}
		}
	}
	return undef;
}

# Wait (bounded) until the prober has judged the three targets.
my $doc;
$deadline = time() + 30 * $scale;
while (time() < $deadline) {
	$doc = status_doc();
	last if $doc && (target_of($doc, 'web.app.example.', '127.0.0.3') // {})->{state} eq 'down'
		&& (target_of($doc, 'web.app.example.', '127.0.0.2') // {})->{state} eq 'up'
		&& (target_of($doc, 'web.app.example.', '127.0.0.4') // {})->{state} eq 'up';
	sleep(0.1);
}

# ---------------------------------------------------------------------------------------------
# /metrics

# { 'name{labels}' => value } and { family => type } of an exposition; dies on a bad line.
sub parse_metrics
{
	my ($text) = @_;
	my (%s, %type, %help);
	for my $line (split /\n/, $text) {
		if ($line =~ /^# HELP (\w+) \S/) {
			$help{$1} = 1;
		} elsif ($line =~ /^# TYPE (\w+) (counter|gauge|histogram)$/) {
			$type{$1} = $2;
		} elsif ($line =~ /^([a-zA-Z_:][\w:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/) {
			my ($name, $labels, $v) = ($1, $2 // '', $3);
			die "not a number: $line\n" unless $v =~ /^(?:[+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?|\+Inf|NaN)$/i;
			die "duplicate series: $line\n" if exists $s{"$name$labels"};
			(my $fam = $name) =~ s/_(bucket|sum|count)$// unless $type{$name};
			die "sample before its TYPE: $line\n" unless $type{$name} || $type{$fam};
			$s{"$name$labels"} = $v;
		} else {
			die "unexpected line: '$line'\n";
		}
	}
	for my $f (keys %type) {
		die "no HELP for $f\n" unless $help{$f};
	}
	return (\%s, \%type);
}

my $res = get('/metrics');
is($res->{status}, 200, '/metrics answers 200');
like($res->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4}, 'in the text format 0.0.4');
my ($m0, $types) = eval { parse_metrics($res->{content}) };
ok($m0, 'every line is a HELP, a TYPE or a sample') or diag($@);
$m0 //= {};

for my $fam (qw(cutover_queries_total cutover_responses_total cutover_pool_answers_total
		cutover_pool_preview_answers_total cutover_fail_open_answers_total
		cutover_pool_fail_open_answers_total cutover_target_healthy cutover_target_drained
		cutover_target_check_latency_seconds cutover_prober_errors_total
		cutover_shift_traffic_ratio cutover_db_map_size_bytes cutover_db_used_bytes
		cutover_uptime_seconds cutover_process_start_time_seconds cutover_zone_serial
		cutover_pool_weight cutover_pool_share_ratio cutover_queries_dropped_total
		cutover_db_errors_total cutover_answer_cache_hits_total
		cutover_answer_cache_misses_total)) {
	ok($types->{$fam}, "family $fam is there") or next;
}
is($types->{cutover_target_check_latency_seconds}, 'histogram', 'check latency is a histogram');

# Queries of known kinds, then the counters again.
my %sent = (udp_a => 5, tcp_a => 3, nx => 2, preview => 1, web => 2);
$t->query('api.app.example', 'A') for 1 .. $sent{udp_a};
$t->query('api.app.example', 'A', tcp => 1) for 1 .. $sent{tcp_a};
$t->query("nx$_.app.example", 'A') for 1 .. $sent{nx};
$t->query('green.api.app.example', 'A') for 1 .. $sent{preview};
$t->query('web.app.example', 'A') for 1 .. $sent{web};
my $m1 = eval { (parse_metrics(get('/metrics')->{content}))[0] } // {};

sub delta
{
	my ($series) = @_;
	return ($m1->{$series} // 0) - ($m0->{$series} // 0);
}

my $total = 0;
$total += $_ for values %sent;
cmp_ok(delta('cutover_queries_total'), '>=', $total, "cutover_queries_total grew by the $total queries");
# the same question five times in a row: all but the first come from the answer cache unless
# the database changes in between (the prober writes at most every 2 s)
cmp_ok(delta('cutover_answer_cache_hits_total'), '>', 0, 'repeated questions answered from the cache');
cmp_ok(delta('cutover_answer_cache_hits_total') + delta('cutover_answer_cache_misses_total'), '>=',
       $total, 'every looked-up query is a cache hit or a miss');
cmp_ok(delta('cutover_responses_total{proto="udp",qtype="A",rcode="NOERROR"}'), '>=',
       $sent{udp_a} + $sent{preview} + $sent{web}, 'UDP A NOERROR responses counted');
cmp_ok(delta('cutover_responses_total{proto="tcp",qtype="A",rcode="NOERROR"}'), '>=', $sent{tcp_a},
       'TCP A NOERROR responses counted');
cmp_ok(delta('cutover_responses_total{proto="udp",qtype="A",rcode="NXDOMAIN"}'), '>=', $sent{nx},
       'NXDOMAIN responses counted');
is(delta('cutover_pool_answers_total{pool="api.app.example.",type="A",group="blue"}'),
   $sent{udp_a} + $sent{tcp_a}, 'pool answers of api/A by group blue (blue=100)');
is(delta('cutover_pool_preview_answers_total{pool="api.app.example.",type="A",group="green"}'),
   $sent{preview}, 'preview answers of api/A green');
is(delta('cutover_pool_answers_total{pool="web.app.example.",type="A",group="blue"}'), $sent{web},
   'pool answers of web/A (blue=100, one target down)');
is($m1->{'cutover_target_healthy{pool="web.app.example.",type="A",group="blue",target="127.0.0.3"}'},
   0, 'target_healthy 0 for the refused target');
is($m1->{'cutover_target_healthy{pool="web.app.example.",type="A",group="blue",target="127.0.0.2"}'},
   1, 'target_healthy 1 for a listening target');
is($m1->{'cutover_pool_weight{pool="api.app.example.",type="A",group="blue"}'}, 100, 'pool weight');
is($m1->{'cutover_pool_share_ratio{pool="shop.app.example.",type="A",group="green"}'}, 0.1,
   'pool share as a ratio');
cmp_ok($m1->{'cutover_prober_errors_total{kind="refused"}'} // 0, '>', 0, 'refused checks counted by kind');
my $hist = 'cutover_target_check_latency_seconds';
my $lbl = 'pool="web.app.example.",type="A",target="127.0.0.2"';
cmp_ok($m1->{"${hist}_count{$lbl}"} // 0, '>', 0, 'passing checks in the latency histogram');
is($m1->{"${hist}_bucket{$lbl,le=\"+Inf\"}"}, $m1->{"${hist}_count{$lbl}"}, '+Inf bucket = count');
sub le_of { return ($_[0] =~ /le="([^"]+)"/)[0] }
my @buckets = map { $m1->{$_} } sort { le_of($a) <=> le_of($b) }
	grep { /^\Q${hist}_bucket{$lbl,\E/ && !/Inf/ } keys %$m1;
ok(@buckets >= 5 && !grep({ $buckets[$_] < $buckets[ $_ - 1 ] } 1 .. $#buckets), 'buckets are cumulative');
cmp_ok($m1->{cutover_db_used_bytes} // 0, '>', 0, 'LMDB bytes used');
cmp_ok($m1->{cutover_db_used_bytes} // 0, '<=', $m1->{cutover_db_map_size_bytes} // 0, '... within the map size');
my $serial = ($t->ctl('zone', 'list')->{out} =~ /^app\.example\.?\s+(\d+)/m)[0];
is($m1->{'cutover_zone_serial{zone="app.example."}'}, $serial, 'zone serial as zone list has it');

# A running shift: its progress in the metrics (the interval is long: no step falls due).
$r = $t->ctl('--actor', 'ops_http.t', 'shift', 'web.app.example', 'green', '--linear', 10,
	     '--every', '60m', '--type', 'A');
is($r->{exit}, 0, 'a linear shift to green starts') or diag($r->{err});
my $m2 = eval { (parse_metrics(get('/metrics')->{content}))[0] } // {};
my $sl = 'pool="web.app.example.",type="A",group="green",kind="linear"';
is($m2->{"cutover_shift_traffic_ratio{$sl}"}, 0.1, 'shift: traffic ratio 0.1 after its first step');
is($m2->{"cutover_shift_steps_done{$sl}"}, 1, 'shift: one step done');
is($m2->{"cutover_shift_steps{$sl}"}, 10, 'shift: of ten');
is($m2->{"cutover_shift_paused{$sl}"}, 0, 'shift: not paused');
is($m2->{'cutover_pool_weight{pool="web.app.example.",type="A",group="green"}'}, 10, 'shift: weights moved');

# promtool, Prometheus's own checker: from PATH, else taken out of Debian's package (not
# installed: it would start a Prometheus server).
sub promtool
{
	chomp(my $p = `command -v promtool 2>/dev/null`);
	return $p if $p;
	return undef unless $> == 0 && -x '/usr/bin/apt-get' && -x '/usr/bin/dpkg-deb';
	my $dir = $t->dir . '/prom';
	mkdir $dir;
	my $dl = run_cmd([ 'apt-get', 'download', 'prometheus' ], cwd => $dir, timeout => 600);
	my ($deb) = glob("$dir/prometheus_*.deb");
	return undef unless $dl->{exit} == 0 && $deb;
	run_cmd([ 'dpkg-deb', '-x', $deb, "$dir/x" ]);
	return -x "$dir/x/usr/bin/promtool" ? "$dir/x/usr/bin/promtool" : undef;
}

SKIP: {
	my $promtool = promtool();
	skip('promtool is not available (Debian package prometheus)', 1) unless $promtool;
	my $file = $t->dir . '/metrics.txt';
	CutoverTest::write_file($file, get('/metrics')->{content});
	my $pr = run_cmd([ $promtool, 'check', 'metrics' ], stdin => $file);
	is($pr->{exit}, 0, 'promtool check metrics finds nothing') or diag($pr->{out} . $pr->{err});
}

# ---------------------------------------------------------------------------------------------
# /status

$res = get('/status');
is($res->{status}, 200, '/status answers 200');
like($res->{headers}{'content-type'} // '', qr{^application/json}, 'as JSON');
$doc = eval { $JSON->decode($res->{content}) };
ok($doc, 'it parses') or diag($@);
$doc //= {};
is_deeply([ sort keys %$doc ], [ sort qw(cutoverd zones pools shifts history) ], 'top-level keys');
ok(defined $doc->{cutoverd}{$_}, "cutoverd.$_") for qw(version started_ms now_ms uptime_seconds threads);
is_deeply([ map { $_->{name} } @{ $doc->{zones} } ], [ 'app.example.', 'example.test.' ], 'zones');
$serial = ($t->ctl('zone', 'list')->{out} =~ /^app\.example\.?\s+(\d+)/m)[0]; # the shift bumped it
is($doc->{zones}[0]{serial}, $serial, 'with their serials');

# Pools are what cutoverctl status --json gives: the same keys all the way down (values such
# as the last check move on between the two reads), the same weights and shares.
sub shape
{
	my ($v) = @_;
	return ref $v eq 'HASH' ? { map { ($_ => shape($v->{$_})) } keys %$v }
		: ref $v eq 'ARRAY' ? [ map { shape($_) } @$v ] : 'x';
}
my $cli = eval { $JSON->decode($t->ctl('status', '--json')->{out}) } // { pools => [] };
is_deeply(shape($doc->{pools}), shape($cli->{pools}), 'pools: the shape of cutoverctl status --json');
is_deeply([ map { [ $_->{name}, $_->{type}, map { ($_->{name}, $_->{weight}, $_->{share}) } @{ $_->{groups} } ] } @{ $doc->{pools} } ],
	  [ map { [ $_->{name}, $_->{type}, map { ($_->{name}, $_->{weight}, $_->{share}) } @{ $_->{groups} } ] } @{ $cli->{pools} } ],
	  'pools: the same names, weights and shares');
my $cshift = eval { $JSON->decode($t->ctl('shift', 'status', '--json')->{out}) } // {};
my ($sk) = grep { ref $cshift->{$_} eq 'ARRAY' } keys %$cshift;
is_deeply(shape($doc->{shifts}), shape($cshift->{ $sk // 'shifts' }), 'shifts: the shape of cutoverctl shift status --json');
my ($ws) = grep { $_->{name} eq 'web.app.example.' } @{ $doc->{shifts} };
is(($ws // {})->{state}, 'running', 'the shift is running');
is(($ws // {})->{percent}, 10, '... at 10 %');
is((target_of($doc, 'web.app.example.', '127.0.0.3') // {})->{state}, 'down', 'a refused target is down');
like((target_of($doc, 'web.app.example.', '127.0.0.3') // {})->{error} // '', qr/refused/i,
     '... with its error');
is((target_of($doc, 'web.app.example.', '127.0.0.2') // {})->{state}, 'up', 'a listening target is up');
is((target_of($doc, 'api.app.example.', '192.0.2.10') // {})->{state}, 'unknown', 'unchecked: unknown');
ok(@{ $doc->{history} } > 0 && @{ $doc->{history} } <= 20, 'recent history (at most 20)');
is_deeply([ grep { !exists $doc->{history}[0]{$_} } qw(seq time time_ms actor name zone type action summary) ],
	  [], 'history entries: seq, time, time_ms, actor, name, zone, type, action, summary');
ok(!exists $doc->{history}[0]{before}, '... without the whole pools before and after');
is($doc->{history}[0]{actor}, 'ops_http.t', 'newest first');

# Read-only, and only what it knows.
is(get('/nope')->{status}, 404, 'an unknown path: 404');
my $post = $http->post("$base/status");
ok($post->{status} >= 400 && $post->{status} < 600, "POST refused ($post->{status})");
is(get('/status?x=1')->{status}, 200, 'a query string is ignored');

# ---------------------------------------------------------------------------------------------
# The page

$res = get('/');
is($res->{status}, 200, '/ answers 200');
like($res->{headers}{'content-type'} // '', qr{^text/html}, 'as HTML');
my $html = $res->{content};
unlike($html, qr{(?:src|href)\s*=\s*["']?(?:https?:)?//}i, 'no external scripts, styles or links');
unlike($html, qr{\@import|url\(\s*["']?(?:https?:)?//}i, 'no external CSS either');
like($html, qr{fetch\("/status"}, 'it reads /status');
like($res->{headers}{'content-security-policy'} // '', qr{connect-src 'self'}, 'with a CSP');

SKIP: {
	chomp(my $chromium = `command -v chromium 2>/dev/null`);
	skip('chromium is not installed (make test installs it)', 8) unless $chromium;
	my $profile = File::Temp->newdir(TMPDIR => 1, CLEANUP => 1);
	my @flags = ('--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
		     '--disable-background-networking', '--disable-component-update',
		     '--disable-sync', "--user-data-dir=$profile", '--virtual-time-budget=5000');
	# What the page shows is live state: on a loaded machine (or under ASan) a check can time out
	# and flip a target for a moment, or the page can be dumped before /status came back. Up to
	# three renderings, until one shows everything below.
	my @want = ([ qr/data-pool="api\.app\.example\."/, 'the rendered page shows pool api' ],
		    [ qr/data-pool="web\.app\.example\."/, '... and pool web' ],
		    [ qr/<li[^>]*data-target="127\.0\.0\.3"[^>]*data-state="down"/,
		      'a down target shows as down' ],
		    [ qr/<li[^>]*data-target="127\.0\.0\.2"[^>]*data-state="up"/, 'an up target as up' ],
		    [ qr/id="conn"[^>]*>live</, 'the page says it is live (it read /status)' ],
		    [ qr/data-shift="web\.app\.example\. A"[^>]*data-state="running"/,
		      'the running shift is shown' ]);
	my ($dom, $d);
	for my $try (1 .. 3) {
		$dom = run_cmd([ $chromium, @flags, '--dump-dom', "$base/" ], timeout => 120 * $scale);
		$d = $dom->{out};
		last if $dom->{exit} == 0 && !grep { $d !~ $_->[0] } @want;
		note("rendering $try did not show everything yet");
	}
	is($dom->{exit}, 0, 'chromium renders the page') or diag($dom->{err});
	CutoverTest::write_file($t->dir . '/page.dom.html', $d);
	like($d, $_->[0], $_->[1]) for @want;
	my @shots;
	for my $size ('1280,900', '390,844') {
		(my $name = $size) =~ s/,/x/;
		my $png = $t->dir . "/page-$name.png";
		run_cmd([ $chromium, @flags, "--window-size=$size", "--screenshot=$png", "$base/" ],
			timeout => 120 * $scale);
		push @shots, $png if -s $png && substr(slurp($png), 0, 8) eq "\x89PNG\r\n\x1a\n";
	}
	is(scalar @shots, 2, 'screenshots at laptop and phone widths') and note("screenshots: @shots");
}

stop_pid($backend);
my $st = $t->stop;
is($st, 0, 'cutoverd stops cleanly');
done_testing();
