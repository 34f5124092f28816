#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# make install DESTDIR=...: binaries, man pages, example config, systemd unit and bash
# completion where they belong; each of them usable (the config checks, the pages format
# without warnings, the completion completes).
use strict;
use warnings;

use File::Temp ();
use Test::More;

use CutoverTest qw(run_cmd slurp repo_root);

my $root = repo_root();
my $tmp = File::Temp->newdir('cutover-install-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{CT_TEST_KEEP});
my $dest = "$tmp/dest";

# The binaries are built already (make test builds them first): install only copies.
my $r = run_cmd([ 'make', '--no-print-directory', '-C', $root, 'install', "DESTDIR=$dest",
		  'PREFIX=/usr', 'SYSCONFDIR=/etc' ], timeout => 600);
is($r->{exit}, 0, 'make install DESTDIR=... PREFIX=/usr') or diag($r->{out} . $r->{err});

my %mode = (
	'usr/sbin/cutoverd' => 0755,
	'usr/bin/cutoverctl' => 0755,
	'usr/share/man/man8/cutoverd.8' => 0644,
	'usr/share/man/man8/cutoverctl.8' => 0644,
	'usr/share/man/man5/cutover-pools.5' => 0644,
	'usr/share/doc/cutover/cutoverd.conf.example' => 0644,
	'etc/cutover/cutoverd.conf' => 0644,
	'usr/lib/systemd/system/cutoverd.service' => 0644,
	'usr/share/bash-completion/completions/cutoverctl' => 0644,
);
for my $f (sort keys %mode) {
	my @st = stat("$dest/$f");
	ok(@st && -f _, "$f installed") or next;
	is(sprintf('%o', $st[2] & 07777), sprintf('%o', $mode{$f}), "$f mode");
}

# The binaries run; the example config is valid as it is.
like(run_cmd([ "$dest/usr/sbin/cutoverd", '--help' ])->{out}, qr/^Usage: cutoverd/, 'cutoverd runs');
like(run_cmd([ "$dest/usr/bin/cutoverctl", '--help' ])->{out}, qr/^Usage: cutoverctl/, 'cutoverctl runs');
$r = run_cmd([ "$dest/usr/sbin/cutoverd", '-c', "$dest/etc/cutover/cutoverd.conf", '--check-config' ]);
is($r->{exit}, 0, 'the example config passes --check-config') or diag($r->{err});
like($r->{out}, qr/^db \/var\/lib\/cutover$/m, '... and names the default database');

# The unit: started from the installed binary with the installed config, restarted on failure.
my $unit = slurp("$dest/usr/lib/systemd/system/cutoverd.service");
like($unit, qr{^ExecStart=/usr/sbin/cutoverd -c /etc/cutover/cutoverd\.conf$}m, 'unit: ExecStart');
like($unit, qr/^Restart=on-failure$/m, 'unit: Restart=on-failure');
like($unit, qr/^WantedBy=multi-user\.target$/m, 'unit: [Install]');
unlike($unit, qr/@[A-Z]+@/, 'unit: no placeholder left');

# A second install keeps an operator's config.
open(my $fh, '>>', "$dest/etc/cutover/cutoverd.conf") or die $!;
print $fh "# edited by the operator\n";
close $fh;
$r = run_cmd([ 'make', '--no-print-directory', '-C', $root, 'install', "DESTDIR=$dest", 'PREFIX=/usr' ],
	     timeout => 600);
is($r->{exit}, 0, 'make install again');
like(slurp("$dest/etc/cutover/cutoverd.conf"), qr/edited by the operator/, '... keeps the edited config');

# The man pages format without a warning.
SKIP: {
	chomp(my $groff = `command -v groff 2>/dev/null`);
	skip('groff is not installed', 3) unless $groff;
	for my $page (qw(man8/cutoverd.8 man8/cutoverctl.8 man5/cutover-pools.5)) {
		$r = run_cmd([ $groff, '-t', '-man', '-Tutf8', '-ww', '-z', "$dest/usr/share/man/$page" ]);
		ok($r->{exit} == 0 && $r->{err} eq '', "$page formats cleanly") or diag($r->{err});
	}
}

# The completion: valid bash, and it completes commands, second words and options.
my $comp = "$dest/usr/share/bash-completion/completions/cutoverctl";
is(run_cmd([ 'bash', '-n', $comp ])->{exit}, 0, 'completion: bash -n');
my $script = <<'EOF';
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_cutoverctl
printf '%s\n' "${COMPREPLY[@]}"
EOF
sub complete
{
	my (@words) = @_;
	my $c = run_cmd([ 'bash', '-c', $script, 'bash', $comp, 'cutoverctl', @words ],
			env => { PATH => "$dest/usr/bin:$ENV{PATH}" });
	return [ sort split /\n/, $c->{out} ];
}
is_deeply(complete('po'), [ 'pool' ], 'completion: po -> pool');
is_deeply(complete('zone', ''), [ sort qw(delete export import list) ], 'completion: zone subcommands');
ok((grep { $_ eq '--json' } @{ complete('status', '--') }), 'completion: status --json');
my %shift = map { ($_ => 1) } @{ complete('shift', '') };
ok($shift{status} && $shift{pause} && $shift{resume} && $shift{abort}, 'completion: shift status|pause|resume|abort');

done_testing();
