#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# A database that cannot be used: missing, on a read-only file system, a data.mdb of random
# bytes, empty, cut short, or another program's LMDB environment. cutoverd and cutoverctl (a
# reading and a writing command) refuse with a message naming the path and the problem, exit
# non-zero, never die of a signal, and write nothing into someone else's environment.
# The read-only case needs a mount namespace (unshare -m, as root); it is skipped without one.
use strict;
use warnings;

use POSIX qw(WIFEXITED WEXITSTATUS);
use Test::More;

use CutoverTest qw(zone_path run_cmd run_text slurp write_file);

my $ZONE = zone_path('app.example');
my $t = CutoverTest->new(zones => [$ZONE]);
my $dir = $t->dir;

# A good database to cut short, and a zone file that fills more than a few pages.
my $big = "$dir/big.zone";
write_file($big, "\$ORIGIN big.example.\n\$TTL 300\n\@ SOA ns1 host 1 3600 600 86400 300\n"
	   . "\@ NS ns1\nns1 A 192.0.2.1\n"
	   . join('', map { sprintf("h%d A 10.0.%d.%d\n", $_, $_ >> 8, $_ & 255) } 1 .. 3000));
my $r = $t->ctl('zone', 'import', $big);
is($r->{exit}, 0, 'a database with two zones') or diag(run_text($r));

# The LMDB environment's text dump (its main database and every named one), to show it was left
# as it was.
sub dump_of
{
	my ($db) = @_;
	my @d = map { run_cmd([ 'mdb_dump', @$_, $db ]) } [], ['-a'];
	return join('', map { $_->{exit} == 0 ? $_->{out} : "mdb_dump failed: $_->{err}" } @d);
}

# A directory with data.mdb made by $make->(PATH).
my $n = 0;
sub db_with
{
	my ($make) = @_;
	my $db = "$dir/bad" . ++$n;
	mkdir $db or die "$db: $!";
	$make->("$db/data.mdb") if $make;
	return $db;
}

# An LMDB environment of another program: mdb_load of DUMP (key/value pairs as hex).
sub foreign_db
{
	my ($dump) = @_;
	my $db = db_with();
	my $f = write_file("$db.txt", $dump);
	my $l = run_cmd([ 'mdb_load', '-f', $f, $db ]);
	die 'mdb_load: ' . run_text($l) if $l->{exit} != 0;
	return $db;
}

# cutoverd on $db must not start: it exits non-zero by itself, names the path and the problem.
sub daemon_refuses
{
	my ($what, $db, $re, %o) = @_;
	my $s = CutoverTest->new;
	my $ready = $s->start(db => $db, %o);
	subtest "cutoverd refuses $what" => sub {
		ok(!$ready, 'never reports ready') or do { $s->stop; return };
		my $st = $s->{exit_status};
		ok(defined $st && WIFEXITED($st) && WEXITSTATUS($st) != 0,
		   'exits by itself with a non-zero status, no signal')
			or diag('wait status ' . ($st // 'none'));
		my $err = $s->stderr_text;
		like($err, qr/start failed.*\Q$db\E/, 'the message names the path') or diag($err);
		like($err, $re, 'and the problem') or diag($err);
	};
	return;
}

# cutoverctl ARGS on $db must fail: exit 1, no signal, the path and the problem on stderr.
sub ctl_refuses
{
	my ($what, $db, $re, @args) = @_;
	my $c = $t->ctl({ db => $db }, @args);
	subtest "cutoverctl @args refuses $what" => sub {
		is($c->{signal}, 0, 'no signal');
		is($c->{exit}, 1, 'exit status 1');
		like($c->{err}, qr/\Q$db\E/, 'the message names the path');
		like($c->{err}, $re, 'and the problem');
		is($c->{out}, '', 'nothing on stdout');
	} or diag(run_text($c));
	return;
}

sub all_refuse
{
	my ($what, $db, $re) = @_;
	daemon_refuses($what, $db, $re);
	ctl_refuses($what, $db, $re, qw(zone list));
	ctl_refuses($what, $db, $re, 'zone', 'import', $ZONE);
	return;
}

# ---------------------------------------------------------------------------------------------
{
	my $missing = "$dir/no-such-db";
	daemon_refuses('a missing directory', $missing, qr/No such file/i);
	ctl_refuses('a missing directory', $missing, qr/no database/i, qw(zone list));
	ok(!-e $missing, 'nothing was created at the missing path');

	# Random bytes, an empty file, a database cut short (a bad copy or a full disk: reading
	# past its end through the map would be SIGBUS).
	srand(8);
	my $random = db_with(sub {
		write_file($_[0], join('', map { chr(int(rand(256))) } 1 .. 65536));
	});
	all_refuse('a data.mdb of random bytes', $random, qr/not an LMDB file/i);
	my $rsize = -s "$random/data.mdb";
	is($rsize, 65536, 'the random file is left as it was');

	my $empty = db_with(sub { write_file($_[0], '') });
	daemon_refuses('an empty data.mdb', $empty, qr/empty/i);
	ctl_refuses('an empty data.mdb', $empty, qr/no database/i, qw(zone list));

	my $cut = db_with(sub {
		my $all = slurp($t->db . '/data.mdb');
		write_file($_[0], substr($all, 0, int(length($all) / 3)));
	});
	all_refuse('a data.mdb cut short', $cut, qr/truncated/i);
	ctl_refuses('a data.mdb cut short', $cut, qr/truncated/i, qw(zone export big.example));
}

# ---------------------------------------------------------------------------------------------
SKIP: {
	my $probe = run_cmd([ 'mdb_load', '-V' ]);
	skip('mdb_load (lmdb-utils) is not installed', 1) if $probe->{exit} != 0;
	# Another program's environments: data in the main database, or a named database of its
	# own. Never adopted (no schema of ours written into them), never changed.
	my $head = "VERSION=3\nformat=bytevalue\ntype=btree\nmapsize=1048576\n";
	for my $f ([ 'data in its main database', "${head}HEADER=END\n 666f6f\n 626172\nDATA=END\n" ],
		   [ 'a named database of its own',
		     "VERSION=3\nformat=bytevalue\ndatabase=users\ntype=btree\n"
		     . "mapsize=1048576\nHEADER=END\n 616c696365\n 31\nDATA=END\n" ]) {
		my ($what, $dump) = @$f;
		my $db = foreign_db($dump);
		my $before = dump_of($db);
		like($before, qr/DATA=END/, "another program's LMDB ($what)");
		all_refuse("another program's LMDB ($what)", $db, qr/not a cutover database/i);
		ctl_refuses("another program's LMDB ($what)", $db, qr/not a cutover database/i,
			    'pool', 'set', 'api.app.example', '--group', 'blue=192.0.2.1');
		is(dump_of($db), $before, "another program's LMDB ($what): left as it was");
	}
}

# ---------------------------------------------------------------------------------------------
# A read-only file system: a tmpfs in a mount namespace of its own, remounted read-only after
# the database was copied in. cutoverd needs to write (health records) and refuses; cutoverctl
# reads (LMDB without its lock file, which it cannot take there) and refuses to write.
SKIP: {
	my $mnt = "$dir/ro";
	mkdir $mnt;
	my $probe = run_cmd([ 'unshare', '-m', 'sh', '-c',
			      "mount -t tmpfs -o size=64m tmpfs '$mnt' && mount -o remount,ro '$mnt'" ]);
	skip('no mount namespace here (unshare -m needs root): ' . $probe->{err}, 1)
		if $probe->{exit} != 0;

	# Run CMD (with @DB@ for the database path) inside the namespace.
	my $in_ro = sub {
		my (@cmd) = @_;
		s/\@DB\@/$mnt\/db/g for @cmd;
		return run_cmd([ 'unshare', '-m', 'sh', '-c',
				 'mount -t tmpfs -o size=64m tmpfs "$1" && cp -a "$2" "$1/db" && '
				 . 'mount -o remount,ro "$1" && shift 2 && exec "$@"',
				 'sh', $mnt, $t->db, @cmd ]);
	};
	my $db = "$mnt/db";
	my $d = $in_ro->(CutoverTest::cutoverd_bin(), '--db', '@DB@', '--listen', '127.0.0.1:1');
	subtest 'cutoverd refuses a database on a read-only file system' => sub {
		is($d->{signal}, 0, 'no signal');
		is($d->{exit}, 1, 'exit status 1');
		like($d->{err}, qr/start failed.*\Q$db\E.*read-only file system/i,
		     'the message names the path and the problem');
	} or diag(run_text($d));

	my $ctl = CutoverTest::cutoverctl_bin();
	my $c = $in_ro->($ctl, '--db', '@DB@', 'zone', 'list');
	is($c->{exit}, 0, 'cutoverctl zone list reads it') or diag(run_text($c));
	like($c->{out}, qr/^app\.example\.\s+\d+\s+10$/m, 'and lists its zones');
	for my $args ([ 'zone', 'import', $ZONE ], [ qw(pool set api.app.example --group blue=192.0.2.1) ],
		      [ qw(zone delete app.example) ]) {
		$c = $in_ro->($ctl, '--db', '@DB@', @$args);
		subtest "cutoverctl @$args refuses a read-only file system" => sub {
			is($c->{signal}, 0, 'no signal');
			is($c->{exit}, 1, 'exit status 1');
			like($c->{err}, qr/\Q$db\E.*read-only file system/i,
			     'the message names the path and the problem');
		} or diag(run_text($c));
	}
}

# The good database beside them all was never touched: it still serves.
ok($t->start, 'cutoverd starts on the good database') or diag($t->stderr_text);
my $p = $t->query('h3000.big.example', 'A');
is($p && join(' ', map { $_->address } $p->answer), '10.0.11.184', 'and answers from it');
is($t->stop, 0, 'exits 0 on SIGTERM');

done_testing();
