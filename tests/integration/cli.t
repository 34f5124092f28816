#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# cutoverctl zone commands: usage and exit codes, missing databases, zone-file errors reported
# as file:line with the database left unchanged, list/export/delete, export round trips.
use strict;
use warnings;

use File::Basename qw(basename);
use Test::More;

use CutoverTest qw(zone_path read_zone rr_key section_diff slurp);

my $t = CutoverTest->new;
my $dir = $t->dir;

sub write_file
{
	my ($path, $text) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
	return $path;
}

# The owner names (lowercase, no trailing dot) in `zone export NAME`, read by Net::DNS.
sub exported_owners
{
	my ($fixture, $zone) = @_;
	my $r = $fixture->ctl(qw(zone export), $zone);
	return () if $r->{exit} != 0;
	my $file = write_file("$dir/owners.$zone.txt", $r->{out});
	return map { lc($_->owner) } eval { read_zone($file) };
}

sub show
{
	my ($r) = @_;
	return "exit=$r->{exit}\nstdout: $r->{out}\nstderr: $r->{err}";
}

# ---------------------------------------------------------------------------------------------
subtest 'usage, --help and exit codes' => sub {
	my $r = $t->ctl({ nodb => 1 });
	is($r->{exit}, 2, 'no arguments: exit 2') or diag(show($r));
	like($r->{err} . $r->{out}, qr/usage/i, 'no arguments: usage printed');

	for my $args (['--help'], [qw(zone --help)], [qw(zone import --help)],
		      [qw(zone export --help)], [qw(zone list --help)], [qw(zone delete --help)]) {
		$r = $t->ctl({ nodb => 1 }, @$args);
		is($r->{exit}, 0, "@$args: exit 0") or diag(show($r));
		like($r->{out} . $r->{err}, qr/usage/i, "@$args: prints usage");
	}
	$r = $t->ctl({ nodb => 1 }, '--help');
	like($r->{out}, qr/zone/, '--help lists the zone commands on stdout');
	$r = $t->ctl({ nodb => 1 }, qw(zone import --help));
	like($r->{out} . $r->{err}, qr/--origin/, 'zone import --help documents --origin');

	my @usage_errors = (
		[qw(frobnicate)],
		[qw(zone)],
		[qw(zone frobnicate)],
		[qw(zone import)],
		[qw(zone import a.zone b.zone)],
		[qw(zone import a.zone --origin)],
		[qw(zone export)],
		[qw(zone delete)],
		[qw(zone list extra)],
		[qw(--no-such-option zone list)],
		[qw(--db)],
	);
	for my $args (@usage_errors) {
		$r = $t->ctl({ nodb => 1 }, @$args);
		is($r->{exit}, 2, "usage error '@$args': exit 2") or diag(show($r));
		ok(length($r->{err}), "usage error '@$args': says why on stderr");
	}
};

# ---------------------------------------------------------------------------------------------
subtest 'a missing or unreadable database is refused, not created or overwritten' => sub {
	my $missing = "$dir/no-such-db";
	for my $args ([qw(zone list)], [qw(zone export example.test)], [qw(zone delete example.test)]) {
		my $r = $t->ctl({ db => $missing }, @$args);
		is($r->{exit}, 1, "'@$args' on a missing database: exit 1") or diag(show($r));
		like($r->{err}, qr/\Q$missing\E/, "'@$args': the message names the database");
		ok(!-e $missing, "'@$args': the database was not created");
	}
	my $garbage = "$dir/garbage-db";
	mkdir $garbage;
	open(my $g, '>', "$garbage/data.mdb") or die $!;
	print $g "\xff" x 65536;
	close $g;
	for my $args ([qw(zone list)], [ qw(zone import), zone_path('app.example') ]) {
		my $r = $t->ctl({ db => $garbage }, @$args);
		is($r->{exit}, 1, "'@$args' on a file that is not a database: exit 1") or diag(show($r));
		like($r->{err}, qr/\Q$garbage\E/, "'@$args': the message names the database");
	}
	is(-s "$garbage/data.mdb", 65536, 'the file was left as it was');

	my $r = $t->ctl({ db => $missing }, qw(zone import), "$dir/no-such-file.zone");
	is($r->{exit}, 1, 'import of a missing file: exit 1') or diag(show($r));
	like($r->{err}, qr/no-such-file\.zone/, 'import of a missing file: the message names it');
};

# ---------------------------------------------------------------------------------------------
subtest 'import creates the database; CUTOVER_DB is the default' => sub {
	my $envdb = "$dir/envdb";
	my $r = $t->ctl({ nodb => 1, env => { CUTOVER_DB => $envdb } },
			qw(zone import), zone_path('app.example'));
	is($r->{exit}, 0, 'import with $CUTOVER_DB and no --db') or diag(show($r));
	ok(-d $envdb, 'the database directory was created at $CUTOVER_DB');
	$r = $t->ctl({ nodb => 1, env => { CUTOVER_DB => $envdb } }, qw(zone list));
	is($r->{exit}, 0, 'zone list with $CUTOVER_DB') or diag(show($r));
	like($r->{out}, qr/^app\.example\.?(\s|$)/m, 'lists app.example') or diag(show($r));
};

# ---------------------------------------------------------------------------------------------
# Imports of the example zones, list, export, and the round trip: export -> import -> export
# gives the same text, and the exported records are exactly the zone file's records as Net::DNS
# reads them (an independent parser).
my %exported;
subtest 'import, list, export round trip of the example zones' => sub {
	for my $zone (qw(example.test app.example)) {
		my $r = $t->ctl(qw(zone import), zone_path($zone));
		is($r->{exit}, 0, "import zones/$zone.zone") or diag(show($r));
	}
	my $r = $t->ctl(qw(zone list));
	is($r->{exit}, 0, 'zone list') or diag(show($r));
	like($r->{out}, qr/^example\.test\.?(\s|$)/m, 'zone list shows example.test');
	like($r->{out}, qr/^app\.example\.?(\s|$)/m, 'zone list shows app.example');

	for my $zone (qw(example.test app.example)) {
		$r = $t->ctl(qw(zone export), $zone);
		is($r->{exit}, 0, "export $zone") or diag(show($r));
		$exported{$zone} = $r->{out};
		my $file = write_file("$dir/$zone.exported", $r->{out});

		my @want = read_zone(zone_path($zone));
		my @got = eval { read_zone($file) };
		is($@, '', "the export of $zone parses as a master file") or next;
		# The SOA serial may have been bumped by the import: compare it apart.
		my ($soa_got) = grep { $_->type eq 'SOA' } @got;
		my ($soa_want) = grep { $_->type eq 'SOA' } @want;
		ok($soa_got && $soa_got->serial >= $soa_want->serial,
		   "$zone: exported serial is not below the file's");
		$_->serial(0) for grep { $_->type eq 'SOA' } @got, @want;
		my $d = section_diff('records', \@got, \@want);
		ok($d eq '', "$zone: the export holds exactly the zone file's records") or diag($d);

		my $t2 = CutoverTest->new;
		$r = $t2->ctl(qw(zone import), $file);
		is($r->{exit}, 0, "re-import the export of $zone") or diag(show($r));
		$r = $t2->ctl(qw(zone export), $zone);
		is($r->{exit}, 0, "export the re-imported $zone") or diag(show($r));
		my $again = $r->{out};
		# Serials may differ between the two databases; everything else must not.
		my $strip = sub { my $s = shift; $s =~ s/(\bSOA\s+\S+\s+\S+\s+\(?\s*)\d+/${1}SERIAL/s; $s };
		if ($strip->($again) eq $strip->($exported{$zone})) {
			pass("$zone: export -> import -> export is identical");
		} else {
			fail("$zone: export -> import -> export is identical");
			diag("first export:\n$exported{$zone}\nsecond export:\n$again");
		}
	}

	$r = $t->ctl(qw(zone export example.test.));
	is($r->{exit}, 0, 'export accepts the name with a trailing dot') or diag(show($r));
	is($r->{out}, $exported{'example.test'}, 'same export with a trailing dot');
	$r = $t->ctl(qw(zone export EXAMPLE.Test));
	is($r->{exit}, 0, 'zone names are case-insensitive') or diag(show($r));
	$r = $t->ctl(qw(zone export nope.test));
	is($r->{exit}, 1, 'export of an unknown zone: exit 1') or diag(show($r));
	like($r->{err}, qr/nope\.test/, 'the message names the unknown zone');
};

# ---------------------------------------------------------------------------------------------
subtest '--origin, and $INCLUDE with an origin argument' => sub {
	my $zdir = "$dir/origin";
	mkdir $zdir;
	write_file("$zdir/plain.zone", <<'EOF');
; no $ORIGIN: names are relative to --origin
$TTL 300
@	IN SOA	ns1 hostmaster 5 3600 600 86400 60
	IN NS	ns1
ns1	IN A	192.0.2.1
www	IN A	192.0.2.2
$INCLUDE inc/svc.inc svc
after	IN A	192.0.2.4
EOF
	mkdir "$zdir/inc";
	write_file("$zdir/inc/svc.inc", "api\tIN A\t192.0.2.3\n");
	my $r = $t->ctl(qw(zone import), "$zdir/plain.zone", '--origin', 'origin.test');
	is($r->{exit}, 0, 'import with --origin') or diag(show($r));
	$r = $t->ctl(qw(zone export origin.test));
	is($r->{exit}, 0, 'the zone is named by --origin') or diag(show($r));
	my %owners = map { ($_ => 1) } exported_owners($t, 'origin.test');
	ok($owners{'www.origin.test'}, 'relative names use --origin') or diag(show($r));
	ok($owners{'api.svc.origin.test'},
	   '$INCLUDE FILE ORIGIN: relative names in the file use that origin (RFC 1035 5.1)');
	ok($owners{'after.origin.test'}, 'after the $INCLUDE the origin is the includer\'s again');
};

# ---------------------------------------------------------------------------------------------
# Bad zone files: exit 1, the message names file:line, and the database is unchanged. Each case
# is a version of zone bad.test; the good version is imported first.
subtest 'zone file errors name file:line and change nothing' => sub {
	my $zdir = "$dir/bad";
	mkdir $zdir;
	my $head = <<'EOF';
$ORIGIN bad.test.
$TTL 300
@	IN SOA	ns1 hostmaster 1 3600 600 86400 60
	IN NS	ns1
ns1	IN A	192.0.2.1
www	IN A	192.0.2.2
EOF
	# Lines 1-6 are $head; the bad line of each case is line 7 unless said otherwise.
	my $good = write_file("$zdir/good.zone", $head . "sub\tIN NS\tns.sub\nns.sub\tIN A\t192.0.2.9\n");
	my $r = $t->ctl(qw(zone import), $good);
	is($r->{exit}, 0, 'the good version imports') or diag(show($r));
	my $before = $t->ctl(qw(zone export bad.test))->{out};
	ok(grep({ $_ eq 'www.bad.test' } exported_owners($t, 'bad.test')), 'the good version exports');
	my $list_before = $t->ctl(qw(zone list))->{out};

	write_file("$zdir/inc-bad.inc", "ok1\tIN A\t192.0.2.30\nbroken\tIN A\tnot-an-address\n");
	write_file("$zdir/self.inc", "\$INCLUDE self.inc\n");
	my @cases = (
		[ 'bad A rdata', "x\tIN A\t999.0.0.1\n", 'bad.zone', 7 ],
		[ 'unknown type', "x\tIN NOSUCHTYPE\t1\n", 'bad.zone', 7 ],
		[ 'label longer than 63', ('a' x 64) . "\tIN A\t192.0.2.1\n", 'bad.zone', 7 ],
		[ 'CNAME beside other data', "www\tIN CNAME\tns1\n", 'bad.zone', '(?:6|7)', qr/CNAME/ ],
		[ 'data outside the zone', "www.other.test.\tIN A\t192.0.2.1\n", 'bad.zone', 7 ],
		[ 'a second SOA', "\@\tIN SOA\tns1 h 2 3600 600 86400 60\n", 'bad.zone', 7, qr/SOA/ ],
		[ 'SOA not at the apex', "x\tIN SOA\tns1 h 2 3600 600 86400 60\n", 'bad.zone', 7, qr/SOA/ ],
		[ 'non-glue data below a delegation',
		  "sub\tIN NS\tns.sub\nns.sub\tIN A\t192.0.2.9\nwww.sub\tIN TXT\t\"occluded\"\n", 'bad.zone', 9 ],
		[ 'unterminated quote', "x\tIN TXT\t\"open\n", 'bad.zone', 7 ],
		[ 'error inside an $INCLUDEd file', "\$INCLUDE inc-bad.inc\n", 'inc-bad.inc', 2 ],
		[ '$INCLUDE of a missing file', "\$INCLUDE missing.inc\n", 'bad.zone', 7, qr/missing\.inc/ ],
		[ '$INCLUDE recursion', "\$INCLUDE self.inc\n", undef, undef, qr/self\.inc/ ],
	);
	for my $c (@cases) {
		my ($what, $tail, $file, $line, $re) = @$c;
		my $path = write_file("$zdir/bad.zone", $head . $tail);
		$r = $t->ctl(qw(zone import), $path);
		is($r->{exit}, 1, "$what: exit 1") or diag(show($r));
		if (defined $line) {
			like($r->{err}, qr/\Q$file\E:$line\b/, "$what: the message names $file:line")
				or diag(show($r));
		}
		like($r->{err}, $re, "$what: the message says what is wrong") if $re;
		is($t->ctl(qw(zone export bad.test))->{out}, $before, "$what: the zone is unchanged");
	}

	# Whole-zone checks have no single line; the message names the file.
	for my $c ([ 'no SOA', "\$ORIGIN bad.test.\n\$TTL 300\n\@\tIN NS\tns1\nns1\tIN A\t192.0.2.1\n",
		     qr/SOA/ ],
		   [ 'no NS at the apex', "\$ORIGIN bad.test.\n\$TTL 300\n\@\tIN SOA\tns1 h 1 3600 600 86400 60\n",
		     qr/NS/ ],
		   [ 'an empty file', '', qr/SOA|empty/i ]) {
		my ($what, $text, $re) = @$c;
		my $path = write_file("$zdir/bad.zone", $text);
		$r = $t->ctl(qw(zone import), $path, '--origin', 'bad.test');
		is($r->{exit}, 1, "$what: exit 1") or diag(show($r));
		like($r->{err}, qr/bad\.zone/, "$what: the message names the file");
		like($r->{err}, $re, "$what: the message says what is missing");
		is($t->ctl(qw(zone export bad.test))->{out}, $before, "$what: the zone is unchanged");
	}
	is($t->ctl(qw(zone list))->{out}, $list_before, 'no zone was added or removed by the failures');
};

# ---------------------------------------------------------------------------------------------
subtest 'zone delete, and a served zone that is deleted is REFUSED at once' => sub {
	my $s = CutoverTest->new(zones => [ zone_path('example.test'), zone_path('app.example') ],
				 start => 1);
	my $p = $s->query('www.example.test', 'A');
	ok($p, 'reply before delete') or return;
	is($p->header->rcode, 'NOERROR', 'www.example.test A answered before the delete');

	my $r = $s->ctl(qw(zone delete example.test));
	is($r->{exit}, 0, 'zone delete example.test') or diag(show($r));
	$r = $s->ctl(qw(zone list));
	unlike($r->{out}, qr/^example\.test/m, 'no longer listed');
	like($r->{out}, qr/^app\.example/m, 'the other zone is still listed');
	$r = $s->ctl(qw(zone export example.test));
	is($r->{exit}, 1, 'export of the deleted zone: exit 1');
	$r = $s->ctl(qw(zone delete example.test));
	is($r->{exit}, 1, 'deleting it again: exit 1') or diag(show($r));

	$p = $s->query('www.example.test', 'A');
	ok($p, 'reply after delete') or return;
	is($p->header->rcode, 'REFUSED', 'the next query for the deleted zone is REFUSED');
	is(scalar($p->answer), 0, 'no answer records');
	$p = $s->query('www.app.example', 'A');
	is($p && $p->header->rcode, 'NOERROR', 'the other zone is still answered');

	$r = $s->ctl(qw(zone import), zone_path('example.test'));
	is($r->{exit}, 0, 're-import') or diag(show($r));
	$p = $s->query('www.example.test', 'A');
	is($p && $p->header->rcode, 'NOERROR', 'answered again right after the re-import');
	ok($s->running, 'the daemon is still running');
};

done_testing();
