#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# cutoverd's settings: the config file (-c), --check-config, flags over the file, every error
# as FILE:LINE; logging (levels, --syslog), the query log and its rate limit, --user.
use strict;
use warnings;

use HTTP::Tiny;
use IO::Socket::IP;
use Test::More;
use Time::HiRes qw(sleep time);

use CutoverTest qw(zone_path free_port run_cmd write_file slurp);

my $t = CutoverTest->new(zones => [ zone_path('example.test') ]);
my $dir = $t->dir;
my $scale = CutoverTest::timeout_scale();

sub cutoverd
{
	my (@args) = @_;
	return run_cmd([ CutoverTest::cutoverd_bin(), @args ], env => { CUTOVER_DB => undef });
}

# ---------------------------------------------------------------------------------------------
# A good file, and what --check-config prints for it.
my $good = write_file("$dir/good.conf", <<"EOF");
# cutoverd test configuration
db $dir/db    # comments may follow a value
listen 127.0.0.1:5399
  listen   [::1]:5399
threads 3

tcp-idle-timeout 7
tcp-max-clients 99
http 127.0.0.1:8099
user nobody
log-level warning
syslog no
query-log yes
query-log-rate 5
EOF
my $r = cutoverd('-c', $good, '--check-config');
is($r->{exit}, 0, '--check-config accepts a good file') or diag($r->{err});
my $want = <<"EOF";
# cutoverd settings from $good and the command line
db $dir/db
listen 127.0.0.1:5399
listen [::1]:5399
threads 3
tcp-idle-timeout 7
tcp-max-clients 99
http 127.0.0.1:8099
user nobody
log-level warning
syslog no
query-log yes
query-log-rate 5
rrl-responses-per-second 0 # off
rrl-slip 2
rrl-ipv4-prefix 24
rrl-ipv6-prefix 56
rrl-table-size 262144
# chaos-identity TEXT (not set: CH TXT id.server is REFUSED)
# chaos-version TEXT (not set: CH TXT version.bind is REFUSED)
EOF
is($r->{out}, $want, '... and prints the effective settings');
is($r->{err}, '', '... with nothing on stderr');

# What --check-config prints is itself a config file giving the same settings.
my $again = write_file("$dir/again.conf", $r->{out});
(my $want_again = $want) =~ s/\Q$good\E/$again/;
is(cutoverd('-c', $again, '--check-config')->{out}, $want_again, 'its output reads back the same');

# Flags override the file; --listen options replace the file's listen lines.
$r = cutoverd('-c', $good, '--threads', 1, '--listen', '127.0.0.2:53', '--http', 'off',
	      '--log-level', 'debug', '--check-config');
is($r->{exit}, 0, 'flags with a file');
like($r->{out}, qr/^threads 1$/m, '--threads overrides the file');
like($r->{out}, qr/^listen 127\.0\.0\.2:53$/m, '--listen is used');
unlike($r->{out}, qr/5399/, "... instead of the file's listen lines");
like($r->{out}, qr/^http off$/m, '--http off overrides the file');
like($r->{out}, qr/^log-level debug$/m, '--log-level overrides the file');
like($r->{out}, qr/^tcp-max-clients 99$/m, 'what no flag names comes from the file');
like(cutoverd('-c', $good, '-v', '--check-config')->{out}, qr/^log-level debug$/m, '-v means log-level debug');

# Defaults without a file; $CUTOVER_DB below the file and the flags.
$r = run_cmd([ CutoverTest::cutoverd_bin(), '--check-config' ], env => { CUTOVER_DB => "$dir/envdb" });
like($r->{out}, qr/^db \Q$dir\E\/envdb$/m, 'without a file: $CUTOVER_DB');
like($r->{out}, qr/^listen 127\.0\.0\.1:53$/m, 'the default listen address');
like($r->{out}, qr/^http off$/m, 'no HTTP unless asked');
like($r->{out}, qr/^query-log no$/m, 'no query log unless asked');
like($r->{out}, qr/^# user /m, 'no user unless asked');
$r = run_cmd([ CutoverTest::cutoverd_bin(), '-c', $good, '--check-config' ],
	     env => { CUTOVER_DB => "$dir/envdb" });
like($r->{out}, qr/^db \Q$dir\E\/db$/m, "the file's db wins over \$CUTOVER_DB");

# A '#' inside a value is part of it; blank and comment-only lines are skipped.
my $hash = write_file("$dir/hash.conf", "\n   # only a comment\n\t\ndb $dir/a#b\n");
like(cutoverd('-c', $hash, '--check-config')->{out}, qr/^db \Q$dir\E\/a#b$/m, "a '#' inside a value stays");

# ---------------------------------------------------------------------------------------------
# Every error names the file and the line, and the daemon does not start.
my @bad = (
	[ "db $dir/db\nthreads many\n", 2, qr/threads 'many': expected a number from 1 to 64/ ],
	[ "threads 0\n", 1, qr/threads '0'/ ],
	[ "# x\nfrobnicate yes\n", 2, qr/unknown setting 'frobnicate'/ ],
	[ "check-config yes\n", 1, qr/unknown setting 'check-config'/ ],
	[ "db /a\ndb /b\n", 2, qr/db is already set on line 1/ ],
	[ "threads\n", 1, qr/threads needs a value/ ],
	[ "listen 127.0.0.1:5399\nlisten 300.1.1.1\n", 2, qr/listen '300\.1\.1\.1'.*not an IPv4 or IPv6/ ],
	[ "listen 127.0.0.1:70000\n", 1, qr/port must be a number/ ],
	[ "tcp-idle-timeout 0\n", 1, qr/tcp-idle-timeout '0'/ ],
	[ "tcp-max-clients -3\n", 1, qr/tcp-max-clients '-3'/ ],
	[ "http 127.0.0.1\n", 1, qr/http '127\.0\.0\.1': expected ADDR:PORT/ ],
	[ "http localhost:80\n", 1, qr/http 'localhost:80'.*not an IPv4 or IPv6/ ],
	[ "user no-such-user-here\n", 1, qr/user 'no-such-user-here': no such user/ ],
	[ "log-level loud\n", 1, qr/log-level 'loud': expected error, warning, info or debug/ ],
	[ "syslog maybe\n", 1, qr/syslog 'maybe': expected yes or no/ ],
	[ "query-log-rate -1\n", 1, qr/query-log-rate '-1'/ ],
	[ "chaos-version a\tb\n", 1, qr/chaos-version 'a\tb': only printable ASCII/ ],
	[ "chaos-identity " . ('x' x 256) . "\n", 1, qr/chaos-identity 'x+': expected 1 to 255 characters/ ],
	[ "\n\n" . join('', map { "listen 127.0.0.1:" . (6000 + $_) . "\n" } 1 .. 17), 19,
	  qr/at most 16 listen addresses/ ],
);
my $n = 0;
for my $case (@bad) {
	my ($text, $line, $re) = @$case;
	my $file = write_file("$dir/bad" . ++$n . '.conf', $text);
	for my $mode ([ '--check-config' ], [ '--db', "$dir/db", '--listen', '127.0.0.1:1' ]) {
		$r = cutoverd('-c', $file, @$mode);
		my $what = (split /\n/, $text)[ $line - 1 ] . ($mode->[0] eq '--check-config' ? ' (--check-config)' : '');
		is($r->{exit}, 2, "'$what': exit 2");
		like($r->{err}, qr/^cutoverd: \Q$file\E:$line: /m, "'$what': FILE:LINE");
		like($r->{err}, $re, "'$what': says what is wrong") or diag($r->{err});
	}
}
$r = cutoverd('-c', "$dir/missing.conf", '--check-config');
is($r->{exit}, 2, 'a missing file: exit 2');
like($r->{err}, qr/\Q$dir\E\/missing\.conf: cannot read the config file/, '... with a message');
$r = cutoverd('--threads', 'x');
is($r->{exit}, 2, 'a bad flag value: exit 2');
like($r->{err}, qr/--threads 'x': expected a number/, '... named by its flag');
$r = cutoverd('--no-such-flag');
is($r->{exit}, 2, 'an unknown flag: exit 2');
like(cutoverd('--help')->{out}, qr/--check-config.*--http ADDR:PORT.*--user NAME.*--query-log/s,
     '--help lists the new options');

# ---------------------------------------------------------------------------------------------
# The daemon runs from a file: database, listen address, HTTP, query log.
my $port = free_port();
my $hport = free_port();
my $conf = write_file("$dir/run.conf", <<"EOF");
db $dir/db
listen 127.0.0.1:$port
threads 1
http 127.0.0.1:$hport
query-log yes
EOF
my $d = CutoverTest->new;
ok($d->start(listen => [ "127.0.0.1:$port" ], db => "$dir/db", args => [ '-c', $conf ]),
   'cutoverd starts from a config file (flags repeat what it says)') or diag($d->stderr_text);
$d->{port} = $port;
my $reply = $d->query('www.example.test', 'A');
ok($reply && $reply->header->rcode eq 'NOERROR', 'it answers from the database the file names');
is(HTTP::Tiny->new(timeout => 10 * $scale)->get("http://127.0.0.1:$hport/metrics")->{status}, 200,
   "it serves HTTP where the file says");
my $deadline = time() + 10 * $scale;
sleep(0.05) until $d->stderr_text =~ /\bquery client=/ || time() > $deadline;
like($d->stderr_text,
     qr/info: query client=127\.0\.0\.1 port=\d+ proto=udp name=www\.example\.test\. qtype=A rcode=NOERROR aa=1 tc=0 size=\d+/,
     'the query log: one key=value line per query');
like($d->stderr_text, qr/listening addr=127\.0\.0\.1:$port proto=udp,tcp service=dns/, 'listeners are logged');
is($d->stop, 0, 'it stops cleanly');
like($d->stderr_text, qr/info: stopping signal=TERM.*info: stopped/s, 'start and stop are logged');

# An HTTP address in use: cutoverd does not start, and says which address.
{
	my $hp = free_port();
	my $held = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $hp, Proto => 'tcp',
				       Listen => 5) or die "bind tcp: $!";
	my $h = CutoverTest->new(zones => [ zone_path('example.test') ]);
	ok(!$h->start(threads => 1, args => [ '--http', "127.0.0.1:$hp" ]), 'an HTTP port in use: no start');
	isnt($h->{exit_status}, 0, '... a non-zero exit');
	like($h->stderr_text, qr/start failed reason="http 127\.0\.0\.1:$hp: cannot bind: .*in use/,
	     '... saying which address is taken');
	close $held;
}

# The query log's rate limit: at most N lines a second per worker, the rest counted.
$d = CutoverTest->new(zones => [ zone_path('example.test') ]);
ok($d->start(threads => 1, args => [ '--query-log', '--query-log-rate', 2 ]), 'query log at 2 lines/s');
my $t0 = time();
my $sent = 0;
$d->query('www.example.test', 'A') && $sent++ for 1 .. 40;
my $secs = time() - $t0;
my $lines = () = $d->stderr_text =~ /\bquery client=/g;
SKIP: {
	skip("the queries took $secs s: too slow to see the limit", 1) if $secs >= 5;
	cmp_ok($lines, '<=', 2 * (int($secs) + 2), "$sent queries in $secs s: at most 2 lines a second")
		or diag($d->stderr_text);
}
sleep(1.1);
$d->query('www.example.test', 'A');
$deadline = time() + 10 * $scale;
sleep(0.05) until $d->stderr_text =~ /query-log suppressed=\d+/ || time() > $deadline;
like($d->stderr_text, qr/info: query-log suppressed=\d+ worker=0 rate=2/, 'what was left out is reported');
$d->stop;

# Levels: debug shows HTTP requests; without a query log nothing is logged per query.
$d = CutoverTest->new(zones => [ zone_path('example.test') ]);
$hport = free_port();
ok($d->start(threads => 1, args => [ '--log-level', 'debug', '--http', "127.0.0.1:$hport" ]), 'log-level debug');
HTTP::Tiny->new->get("http://127.0.0.1:$hport/status");
$d->query('www.example.test', 'A');
$deadline = time() + 10 * $scale;
sleep(0.05) until $d->stderr_text =~ /debug: http request/ || time() > $deadline;
like($d->stderr_text, qr/debug: http request path=\/status status=200 bytes=\d+/, 'debug: HTTP requests');
unlike($d->stderr_text, qr/\bquery client=/, 'no query log unless asked');
$d->stop;
unlike($d->stderr_text, qr/^(?!\S+ (error|warning|info|debug): \S)/m, 'every line: TIME LEVEL: event');

# --syslog: nothing on stderr (with no syslog daemon the lines go nowhere), it serves all the same.
$d = CutoverTest->new(zones => [ zone_path('example.test') ]);
$port = free_port();
my $pid = CutoverTest::spawn(cmd => [ CutoverTest::cutoverd_bin(), '--db', $d->db, '--listen',
				      "127.0.0.1:$port", '--threads', 1, '--syslog' ],
			     stderr => "$dir/syslog.err");
$deadline = time() + 30 * $scale;
my $ans;
until ($ans || time() > $deadline) {
	$ans = CutoverTest::query_at('127.0.0.1', $port, 'www.example.test', 'A', timeout => 0.5);
}
ok($ans, 'with --syslog it serves');
is(CutoverTest::stop_pid($pid), 0, '... and stops cleanly');
is(slurp("$dir/syslog.err"), '', '... with nothing on stderr');

# --user: drop privileges once the sockets are bound (root only).
SKIP: {
	skip('--user needs root', 6) unless $> == 0;
	my @pw = getpwnam('nobody') or skip('no user nobody', 6);
	$d = CutoverTest->new(zones => [ zone_path('example.test') ]);
	$port = free_port();
	ok($d->start(listen => [ "127.0.0.1:$port" ], threads => 2, args => [ '--user', 'nobody' ]),
	   'starts as root with --user nobody') or diag($d->stderr_text);
	$d->{port} = $port;
	like($d->stderr_text, qr/privileges dropped user=nobody uid=$pw[2]/, 'logs the drop');
	my $status = slurp('/proc/' . $d->pid . '/status');
	like($status, qr/^Uid:\s+$pw[2]\s+$pw[2]\s+$pw[2]\s+$pw[2]$/m, 'every uid is nobody\'s');
	like($status, qr/^Gid:\s+$pw[3]\s+$pw[3]\s+$pw[3]\s+$pw[3]$/m, 'every gid is its group');
	my $a = $d->query('www.example.test', 'A');
	ok($a && $a->header->rcode eq 'NOERROR', 'still answers from the database it opened as root');
	is($d->stop, 0, 'stops cleanly');
}

done_testing();
