#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# The sanitizer check of the test helper (make test-asan, make test-valgrind): an ASan, LSan,
# UBSan or valgrind report on a program's stderr is caught even when the program exits 0, and
# under make test-asan the programs tested really are the instrumented ones.
use strict;
use warnings;

use Test::More;

use CutoverTest qw(run_cmd zone_path);

$CutoverTest::SANITIZER_DIAG = 0; # the reports below are made up

# Reports as the runtimes print them (first lines; the process id varies).
my %report = (
	asan => '==4242==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010',
	lsan => '==4242==ERROR: LeakSanitizer: detected memory leaks',
	ubsan => 'server/wire.c:12:5: runtime error: load of misaligned address 0x7ffd for type int',
	valgrind_read => '==4242== Invalid read of size 4',
	valgrind_leak => '==4242== 16 bytes in 1 blocks are definitely lost in loss record 1 of 2',
	valgrind_uninit => '==4242== Conditional jump or move depends on uninitialised value(s)',
);
for my $kind (sort keys %report) {
	my $r = run_cmd([ 'sh', '-c', 'echo "$1" >&2; exit 0', 'sh', $report{$kind} ]);
	is($r->{exit}, 0, "$kind: the program exits 0");
	my @got = CutoverTest::take_sanitizer_reports();
	is(scalar @got, 1, "$kind: one report recorded") or diag(explain(\@got));
	like($got[0] // '', qr/\Q$report{$kind}\E/, "$kind: the report's first line");
}

# What is not a report: the daemon's own log lines, and valgrind's warnings.
my $r = run_cmd([ 'sh', '-c', 'echo "2026-01-01T00:00:00Z error: query parse failed" >&2; '
		  . 'echo "==4242== Warning: set address range perms: large range" >&2' ]);
is(scalar CutoverTest::take_sanitizer_reports(), 0, 'log lines and valgrind warnings are not reports');

# A report fails the test that saw it, even when every test passed.
my $lib = CutoverTest::repo_root() . '/tests/lib';
my $script = 'use Test::More; use CutoverTest qw(run_cmd); $CutoverTest::SANITIZER_DIAG = 0; '
	. 'run_cmd([ "sh", "-c", "echo \\"$ARGV[0]\\" >&2" ]); ok(1, "passes"); done_testing();';
$r = run_cmd([ $^X, "-I$lib", '-e', $script, $report{asan} ]);
isnt($r->{exit}, 0, 'a test that saw a report exits non-zero') or diag($r->{out} . $r->{err});
like($r->{err}, qr/sanitizer reports \(the test fails\):\n#\s+sh: \Q$report{asan}\E/,
     '... and lists the report');
$r = run_cmd([ $^X, "-I$lib", '-e', $script, 'all is well' ]);
is($r->{exit}, 0, 'the same test without a report exits 0') or diag($r->{out} . $r->{err});
is(scalar CutoverTest::take_sanitizer_reports(), 0, '(the nested reports stay in the nested test)');

# A daemon's stderr is checked when it stops (by SIGTERM here).
my $t = CutoverTest->new(zones => [ zone_path('example.test') ], start => 1, threads => 1);
ok($t->query('www.example.test', 'A'), 'cutoverd answers');
is($t->stop, 0, 'cutoverd exits 0 on SIGTERM') or diag($t->stderr_text);
is(scalar CutoverTest::take_sanitizer_reports(), 0, 'no report from a clean run of cutoverd');

# Under make test-asan the binaries are instrumented and the sanitizers are set to abort.
SKIP: {
	skip('not under make test-asan', 5) unless ($ENV{ASAN_OPTIONS} // '') =~ /abort_on_error/;
	for my $bin (CutoverTest::cutoverd_bin(), CutoverTest::cutoverctl_bin()) {
		my $libs = run_cmd([ 'ldd', $bin ])->{out};
		like($libs, qr/\blibasan\.so/, "$bin is built with ASan");
		like($libs, qr/\blibubsan\.so/, "$bin is built with UBSan");
	}
	like($ENV{ASAN_OPTIONS}, qr/detect_leaks=1/, 'leaks are checked');
}

done_testing();
